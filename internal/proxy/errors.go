package proxy

import (
	"net/http"
	"strconv"
)

// ServerHeader is what ALB sends in Server on responses it generates.
const ServerHeader = "awselb/2.0"

// errorTitles are the titles of ALB's (nginx-style) error pages. 502, 503
// and 504 are captured from ALB; the others follow nginx's wording, which
// those captures match (an inference: ALB does not publish its pages).
// 463 is ALB's own code, with no wording: its page shows the bare code.
var errorTitles = map[int]string{
	301: "301 Moved Permanently",
	302: "302 Found",
	400: "400 Bad Request",
	404: "404 Not Found",
	405: "405 Not Allowed",
	408: "408 Request Time-out",
	413: "413 Request Entity Too Large",
	414: "414 Request-URI Too Large",
	417: "417 Expectation Failed",
	463: "463",
	500: "500 Internal Server Error",
	501: "501 Not Implemented",
	502: "502 Bad Gateway",
	503: "503 Service Temporarily Unavailable",
	504: "504 Gateway Time-out",
	505: "505 HTTP Version Not Supported",
}

// StatusLine returns "NNN Reason" as ALB's pages name the status: the
// page's title (nginx's wording), or net/http's text for others.
func StatusLine(status int) string {
	if t, ok := errorTitles[status]; ok {
		return t
	}
	return strconv.Itoa(status) + " " + http.StatusText(status)
}

// ErrorPage returns ALB's HTML body for status: nginx-style, CRLF line
// endings (502 is 122 bytes, 503 162, 504 132, as captured from ALB).
func ErrorPage(status int) []byte {
	title := StatusLine(status)
	return []byte("<html>\r\n<head><title>" + title + "</title></head>\r\n<body>\r\n<center><h1>" + title + "</h1></center>\r\n</body>\r\n</html>\r\n")
}

// WriteError writes ALB's error response for status.
func WriteError(w http.ResponseWriter, r *http.Request, status int) {
	body := ErrorPage(status)
	h := w.Header()
	h["Server"] = []string{ServerHeader}
	h["Content-Type"] = []string{"text/html"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}
