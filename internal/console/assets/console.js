// The console's only script: it follows the connection feed (server-sent
// events), opens a failed connection's explanation in place and applies
// the filters. Every value from the server is set as text, never as HTML,
// except the explanation fragment, which the server renders and escapes.
(function () {
  'use strict';
  var filters = document.getElementById('filters');
  if (filters) {
    filters.addEventListener('change', function () { filters.submit(); });
  }

  document.addEventListener('click', function (ev) {
    var b = ev.target.closest ? ev.target.closest('button.why') : null;
    if (b) { toggleWhy(b); }
  });

  function toggleWhy(b) {
    var tr = b.closest('tr');
    var next = tr.nextElementSibling;
    if (next && next.classList.contains('detail')) {
      next.remove();
      b.textContent = 'why?';
      return;
    }
    var d = document.createElement('tr');
    d.className = 'detail';
    var td = document.createElement('td');
    td.colSpan = 7;
    td.textContent = 'loading…';
    d.appendChild(td);
    tr.after(d);
    b.textContent = 'hide';
    fetch('/console/connections/' + encodeURIComponent(b.dataset.trace) + '?fragment=1', { credentials: 'same-origin' })
      .then(function (r) { return r.text(); })
      .then(function (html) { td.innerHTML = html; })
      .catch(function (e) { td.textContent = 'could not load the explanation: ' + e; });
  }

  var table = document.getElementById('feed');
  if (!table || !window.EventSource) { return; }
  var rows = document.getElementById('rows');
  var live = document.getElementById('live');
  var moreEl = document.getElementById('more');
  var empty = document.getElementById('empty');
  var max = parseInt(table.dataset.rows, 10) || 200;
  var more = 0;
  var q = table.dataset.query;
  var es = new EventSource('/console/events?since=' + table.dataset.since + (q ? '&' + q : ''));
  live.textContent = 'connecting…';
  es.addEventListener('open', function () { live.textContent = 'following'; live.classList.add('on'); });
  es.addEventListener('error', function () { live.textContent = 'reconnecting…'; live.classList.remove('on'); });
  es.addEventListener('conns', function (ev) {
    var b = JSON.parse(ev.data);
    for (var i = 0; i < b.conns.length; i++) {
      rows.insertBefore(row(b.conns[i]), rows.firstChild);
    }
    if (b.conns.length && empty) { empty.remove(); empty = null; }
    while (rows.rows.length > max) { rows.deleteRow(rows.rows.length - 1); }
    more += b.more;
    if (more) {
      moreEl.textContent = '+' + more + ' more not shown (at most ' + table.dataset.batch + ' every ' + table.dataset.interval + ')';
    }
  });

  function cell(tr, text, cls) {
    var td = tr.insertCell(-1);
    if (cls) { td.className = cls; }
    td.textContent = text || '';
    return td;
  }

  function row(c) {
    var tr = document.createElement('tr');
    tr.className = 'conn fresh' + (c.failed ? ' fail' : (c.tls_verify_status === 'Success' ? ' ok' : ''));
    tr.dataset.trace = c.conn_trace_id;
    tr.dataset.seq = c.seq;
    cell(tr, c.time, 't');
    var v = cell(tr, '', 'v');
    var s = document.createElement('span');
    s.className = 'status';
    s.textContent = c.tls_verify_status;
    v.appendChild(s);
    if (c.failed_check) {
      var k = document.createElement('span');
      k.className = 'check';
      k.textContent = c.failed_check + ': ' + c.detail;
      v.appendChild(k);
    }
    cell(tr, c.client, 'mono');
    cell(tr, c.leaf_client_cert_subject);
    cell(tr, c.leaf_client_cert_serial_number, 'mono');
    cell(tr, '#' + c.listener);
    var last = cell(tr, '');
    if (c.failed) {
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'why';
      b.dataset.trace = c.conn_trace_id;
      b.textContent = 'why?';
      last.appendChild(b);
    } else {
      var a = document.createElement('a');
      a.className = 'reqs';
      a.href = '/console/connections/' + encodeURIComponent(c.conn_trace_id);
      a.textContent = 'requests';
      last.appendChild(a);
    }
    return tr;
  }
}());
