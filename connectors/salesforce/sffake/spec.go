package sffake

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// Salesforce publishes no OpenAPI document for sObjects (their schema is
// per org). Its official Postman collection (forcedotcom/postman-salesforce-apis,
// CC0) gives the request shape of sObject create: the URL template, the
// headers and the bearer authorization of its example. checkShape holds
// every sObject write the fake receives to that shape; the upsert and the
// reads share its URL prefix, version form and authorization.
//
//go:embed testdata/postman-salesforce-apis-sobject_create.json
var postmanCreate []byte

type shape struct {
	create  *regexp.Regexp // POST …/sobjects/<SOBJECT>
	prefix  *regexp.Regexp // any …/services/data/v<version>/ path
	headers map[string]string
	auth    string // the Authorization scheme of the example
}

var (
	shapeOnce sync.Once
	theShape  shape
	shapeErr  error
)

// loadShape reads the collection item: its url ("{{_endpoint}}/services/data/
// v{{version}}/sobjects/<SOBJECT_API_NAME>"), headerData and the example
// request's Authorization header.
func loadShape() (shape, error) {
	shapeOnce.Do(func() {
		var item struct {
			URL        string `json:"url"`
			Method     string `json:"method"`
			HeaderData []struct{ Key, Value string }
			Responses  []struct {
				RequestObject struct {
					HeaderData []struct{ Key, Value string } `json:"headerData"`
				} `json:"requestObject"`
			} `json:"responses"`
		}
		if err := json.Unmarshal(postmanCreate, &item); err != nil {
			shapeErr = fmt.Errorf("postman collection: %w", err)
			return
		}
		path, ok := strings.CutPrefix(item.URL, "{{_endpoint}}")
		if !ok || item.Method != http.MethodPost {
			shapeErr = fmt.Errorf("postman collection: unexpected item %s %s", item.Method, item.URL)
			return
		}
		pat := regexp.QuoteMeta(path)
		pat = strings.Replace(pat, regexp.QuoteMeta("{{version}}"), `[0-9]+\.0`, 1)
		pat = strings.Replace(pat, regexp.QuoteMeta("<SOBJECT_API_NAME>"), `[A-Za-z][A-Za-z0-9_]*`, 1)
		theShape.create = regexp.MustCompile("^" + pat + "$")
		theShape.prefix = regexp.MustCompile("^" + strings.SplitAfter(pat, "/sobjects/")[0])
		theShape.headers = map[string]string{}
		for _, h := range item.HeaderData {
			theShape.headers[h.Key] = h.Value
		}
		for _, rsp := range item.Responses {
			for _, h := range rsp.RequestObject.HeaderData {
				if h.Key == "Authorization" {
					theShape.auth, _, _ = strings.Cut(h.Value, " ")
				}
			}
		}
	})
	return theShape, shapeErr
}

// checkShape lists how r departs from the collection's request shape.
func checkShape(r *http.Request) []string {
	if !strings.HasPrefix(r.URL.Path, "/services/data/") {
		return nil
	}
	s, err := loadShape()
	if err != nil {
		return []string{err.Error()}
	}
	var out []string
	where := r.Method + " " + r.URL.Path
	if strings.Contains(r.URL.Path, "/sobjects/") && !s.prefix.MatchString(r.URL.Path) {
		out = append(out, where+": the path does not follow /services/data/v{version}/sobjects/")
	}
	if scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " "); s.auth != "" && scheme != s.auth {
		out = append(out, where+": Authorization is not "+s.auth+" <token>")
	}
	if r.Method == http.MethodPost || r.Method == http.MethodPatch {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/sobjects/") && !s.create.MatchString(r.URL.Path) {
			out = append(out, where+": a create must POST to /services/data/v{version}/sobjects/<SOBJECT>")
		}
		for k, v := range s.headers {
			got, _, _ := mime.ParseMediaType(r.Header.Get(k))
			if got != v {
				out = append(out, fmt.Sprintf("%s: header %s is %q, want %q", where, k, r.Header.Get(k), v))
			}
		}
	}
	return out
}
