package s3store

import (
	"bytes"
	"encoding/xml"
	"io"
	"net/http"
	"strconv"
)

// standardMessages are S3's messages for its error codes, as S3 answers
// them (Amazon S3 API Reference, "Error responses", list of error codes;
// the wording S3 sends, which the SDKs and the aws CLI print after the
// code). An error without a <Message> is printed "…: Unknown" by the CLI.
var standardMessages = map[string]string{
	"AccessDenied":                            "Access Denied",
	"AuthorizationHeaderMalformed":            "The authorization header is malformed.",
	"BadDigest":                               "The Content-MD5 you specified did not match what we received.",
	"BadRequest":                              "Bad Request",
	"BucketAlreadyExists":                     "The requested bucket name is not available. The bucket namespace is shared by all users of the system. Please select a different name and try again.",
	"BucketAlreadyOwnedByYou":                 "Your previous request to create the named bucket succeeded and you already own it.",
	"BucketNotEmpty":                          "The bucket you tried to delete is not empty",
	"EntityTooLarge":                          "Your proposed upload exceeds the maximum allowed object size.",
	"EntityTooSmall":                          "Your proposed upload is smaller than the minimum allowed object size.",
	"IllegalVersioningConfigurationException": "The versioning configuration specified in the request is invalid.",
	"IncompleteBody":                          "You did not provide the number of bytes specified by the Content-Length HTTP header.",
	"IncorrectNumberOfFilesInPostRequest":     "POST requires exactly one file upload per request.",
	"InlineDataTooLarge":                      "Inline data exceeds the maximum allowed size.",
	"InternalError":                           "We encountered an internal error. Please try again.",
	"InvalidAccessKeyId":                      "The AWS Access Key Id you provided does not exist in our records.",
	"InvalidArgument":                         "Invalid Argument",
	"InvalidBucketName":                       "The specified bucket is not valid.",
	"InvalidBucketState":                      "The request is not valid with the current state of the bucket.",
	"InvalidDigest":                           "The Content-MD5 you specified is not valid.",
	"InvalidPart":                             "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.",
	"InvalidPartOrder":                        "The list of parts was not in ascending order. The parts list must be specified in order by part number.",
	"InvalidRange":                            "The requested range is not satisfiable",
	"InvalidRequest":                          "Invalid Request",
	"InvalidTag":                              "The tag provided was not a valid tag.",
	"InvalidToken":                            "The provided token is malformed or otherwise invalid.",
	"InvalidURI":                              "Couldn't parse the specified URI.",
	"KeyTooLongError":                         "Your key is too long",
	"MalformedPOSTRequest":                    "The body of your POST request is not well-formed multipart/form-data.",
	"MalformedXML":                            "The XML you provided was not well-formed or did not validate against our published schema",
	"MaxMessageLengthExceeded":                "Your request was too big.",
	"MetadataTooLarge":                        "Your metadata headers exceed the maximum allowed metadata size.",
	"MethodNotAllowed":                        "The specified method is not allowed against this resource.",
	"MissingContentLength":                    "You must provide the Content-Length HTTP header.",
	"MissingSecurityHeader":                   "Your request is missing a required header.",
	"NoSuchBucket":                            "The specified bucket does not exist",
	"NoSuchBucketPolicy":                      "The bucket policy does not exist",
	"NoSuchCORSConfiguration":                 "The CORS configuration does not exist",
	"NoSuchKey":                               "The specified key does not exist.",
	"NoSuchLifecycleConfiguration":            "The lifecycle configuration does not exist",
	"NoSuchPublicAccessBlockConfiguration":    "The public access block configuration was not found",
	"NoSuchTagSet":                            "The TagSet does not exist",
	"NoSuchUpload":                            "The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.",
	"NoSuchVersion":                           "The specified version does not exist.",
	"NoSuchWebsiteConfiguration":              "The specified bucket does not have a website configuration",
	"NotImplemented":                          "A header you provided implies functionality that is not implemented",
	"ObjectLockConfigurationNotFoundError":    "Object Lock configuration does not exist for this bucket",
	"OwnershipControlsNotFoundError":          "The bucket ownership controls were not found",
	"PreconditionFailed":                      "At least one of the preconditions you specified did not hold",
	"ReplicationConfigurationNotFoundError":   "The replication configuration was not found",
	"RequestTimeTooSkewed":                    "The difference between the request time and the current time is too large.",
	"ServerSideEncryptionConfigurationNotFoundError": "The server side encryption configuration was not found",
	"SignatureDoesNotMatch":                          "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
	"SlowDown":                                       "Please reduce your request rate.",
	"TooManyBuckets":                                 "You have attempted to create more buckets than allowed",
}

// standardMessage is S3's message for code, or the HTTP status text for a
// code without one.
func standardMessage(code string, status int) string {
	if m, ok := standardMessages[code]; ok {
		return m
	}
	if t := http.StatusText(status); t != "" {
		return t
	}
	return code
}

// errorWriter corrects the error responses the library writes: the HTTP
// status the backend chose (the library derives it from the code:
// MethodNotAllowed is 400 there, 405 at S3) and a <Message> where the
// library leaves it out or repeats the code (its ResourceError and bare
// codes: BucketNotEmpty, NoSuchUpload…). An error body is held until
// finish; other responses pass through as they are written.
type errorWriter struct {
	http.ResponseWriter
	st     *reqState
	status int
	body   *bytes.Buffer // the error body, nil while not answering an error
}

func (w *errorWriter) WriteHeader(code int) {
	if code < 400 || w.body != nil {
		w.ResponseWriter.WriteHeader(code)
		return
	}
	if w.st.errStatus != 0 {
		code = w.st.errStatus
	}
	w.status, w.body = code, new(bytes.Buffer)
}

func (w *errorWriter) Write(p []byte) (int, error) {
	if w.body != nil {
		return w.body.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// finish writes the held error response, its <Message> filled in.
func (w *errorWriter) finish() {
	if w.body == nil {
		return
	}
	body := withMessage(w.body.Bytes(), w.status)
	if len(body) > 0 {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.ResponseWriter.WriteHeader(w.status)
	w.ResponseWriter.Write(body)
}

// withMessage returns an S3 <Error> document with a <Message>: S3's
// standard one put after <Code> (indented as <Code> is) where it is
// missing, empty or the code itself. Anything else (HEAD's empty body, a document without a code) is
// returned as it is.
func withMessage(body []byte, status int) []byte {
	dec := xml.NewDecoder(bytes.NewReader(body))
	var (
		code               string
		codeEnd            int64 = -1 // offset after </Code>
		msgStart, msgEnd   int64 = -1, -1
		msg                string
		depth              int
		inCode, inMsg      bool
		startOfCurrentElem int64
		space, codeIndent  string // whitespace before a child; before <Code>
	)
	for {
		off := dec.InputOffset()
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return body
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if depth == 1 && t.Name.Local != "Error" {
				return body
			}
			if depth == 2 {
				startOfCurrentElem = off
				inCode, inMsg = t.Name.Local == "Code", t.Name.Local == "Message"
				if inCode {
					codeIndent = space
				}
			}
		case xml.CharData:
			if depth == 1 {
				space = string(t)
				if len(bytes.TrimSpace(t)) > 0 {
					space = ""
				}
			}
			switch {
			case inCode:
				code += string(t)
			case inMsg:
				msg += string(t)
			}
		case xml.EndElement:
			if depth == 2 {
				switch {
				case inCode:
					codeEnd = dec.InputOffset()
				case inMsg:
					msgStart, msgEnd = startOfCurrentElem, dec.InputOffset()
				}
				inCode, inMsg = false, false
			}
			depth--
		}
	}
	if codeEnd < 0 || (msg != "" && msg != code) {
		return body
	}
	var elem bytes.Buffer
	elem.WriteString("<Message>")
	xml.EscapeText(&elem, []byte(standardMessage(code, status)))
	elem.WriteString("</Message>")
	var out []byte
	if msgStart >= 0 {
		out = append(out, body[:msgStart]...)
		out = append(out, elem.Bytes()...)
		return append(out, body[msgEnd:]...)
	}
	out = append(out, body[:codeEnd]...)
	out = append(out, codeIndent...) // as the library indents its elements
	out = append(out, elem.Bytes()...)
	return append(out, body[codeEnd:]...)
}
