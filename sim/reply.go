package sim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// reply is a handler's answer, kept as a value so that $batch can collect
// inner answers without going through HTTP.
type reply struct {
	status int
	body   any    // encoded as JSON
	raw    []byte // a body already encoded (text/plain $count, HTML)
	ctype  string
	header http.Header
}

const graphJSON = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"

func replyJSON(status int, body any) *reply { return &reply{status: status, body: body} }

func replyOK(body any) *reply { return replyJSON(http.StatusOK, body) }

func replyCreated(body any) *reply { return replyJSON(http.StatusCreated, body) }

func replyNoContent() *reply { return &reply{status: http.StatusNoContent} }

func replyText(status int, text string) *reply {
	return &reply{status: status, raw: []byte(text), ctype: "text/plain"}
}

// errorShape says how a service writes its errors.
type errorShape int

const (
	shapeGraph errorShape = iota // {"error":{"code","message","innerError":{...}}}
	shapeARM                     // {"error":{"code","message"}}
	shapeEXO                     // {"error":{"code","message","details":[...],"innererror":{...}}}
)

// call is one request to a service route (or one item of a $batch).
type call struct {
	s        *Server
	t        *tenant
	who      *principal
	shape    errorShape
	method   string
	path     string // the request path, for links
	params   map[string]string
	query    url.Values
	header   http.Header
	body     []byte
	reqID    string
	clientID string // client-request-id
	base     string // https://host
	now      time.Time
	route    *route
	prefix   string // "/v1.0" or "/beta"
}

// fail turns an error into the service's error answer.
func (c *call) fail(e *apiError) *reply {
	r := &reply{status: e.status, header: e.header}
	switch c.shape {
	case shapeARM:
		r.body = object{{"error", object{{"code", e.code}, {"message", e.message}}}}
	case shapeEXO:
		r.body = exoErrorBody(e)
	default:
		r.body = object{{"error", object{
			{"code", e.code},
			{"message", e.message},
			{"innerError", object{
				{"date", c.now.UTC().Format("2006-01-02T15:04:05")},
				{"request-id", c.reqID},
				{"client-request-id", c.clientID},
			}},
		}}}
	}
	return r
}

// decode reads the JSON body into v.
func (c *call) decode(v any) *apiError {
	if len(c.body) == 0 {
		return errOData("Empty Payload. JSON content expected.")
	}
	if err := json.Unmarshal(c.body, v); err != nil {
		return errBody(err)
	}
	return nil
}

// write sends a reply over HTTP.
func writeReply(w http.ResponseWriter, r *reply) {
	h := w.Header()
	for k, vs := range r.header {
		for _, v := range vs {
			h.Add(k, v)
		}
	}
	switch {
	case r.raw != nil:
		ct := r.ctype
		if ct == "" {
			ct = "text/plain"
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(r.raw)))
		w.WriteHeader(r.status)
		_, _ = w.Write(r.raw)
	case r.body != nil:
		b, err := marshalValue(r.body)
		if err != nil {
			http.Error(w, "encode answer: "+err.Error(), http.StatusInternalServerError)
			return
		}
		ct := r.ctype
		if ct == "" {
			ct = graphJSON
			h.Set("OData-Version", "4.0")
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(r.status)
		_, _ = w.Write(b)
	default:
		w.WriteHeader(r.status)
	}
}
