package proxy

import (
	"net/http"
	"strconv"
)

// ServerHeader is what ALB sends in Server on responses it generates.
const ServerHeader = "awselb/2.0"

// errorTitles are the status lines of ALB's (nginx-style) error pages.
var errorTitles = map[int]string{
	301: "301 Moved Permanently",
	302: "302 Found",
	400: "400 Bad Request",
	404: "404 Not Found",
	408: "408 Request Time-out",
	500: "500 Internal Server Error",
	502: "502 Bad Gateway",
	503: "503 Service Temporarily Unavailable",
	504: "504 Gateway Time-out",
}

// ErrorPage returns ALB's HTML body for status: nginx-style, CRLF line
// endings (502 is 122 bytes, 503 162, 504 132, as captured from ALB).
func ErrorPage(status int) []byte {
	title, ok := errorTitles[status]
	if !ok {
		title = strconv.Itoa(status) + " " + http.StatusText(status)
	}
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
