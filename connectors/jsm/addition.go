package jsm

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/jira"
	"github.com/ticketray/ticketray/connectors/rest"
)

// additionPage is how many comments FindAddition reads per request (the
// servicedeskapi's page size is capped by the site; isLastPage says when
// to stop).
const additionPage = 100

var _ connectors.Adder = (*connector)(nil)

// Add posts a.Text as a public comment on the request (the reply the
// customer and the agents see; the servicedeskapi's comments have no
// properties), ending with a line naming the reporter and then the
// connectors.AdditionMarker line, and then uploads a.Attachments through
// Jira's attachments endpoint.
func (j *connector) Add(ctx context.Context, r connectors.Remote, a *connectors.Addition) error {
	if a.Key == "" || strings.TrimSpace(a.Text) == "" {
		return permanent("add", errors.New("the addition has no key or no text"))
	}
	path, err := jira.IssuePath("/rest/servicedeskapi/request/", jira.RemoteRef(r), "/comment")
	if err != nil {
		return permanent("add", err)
	}
	body := jira.WithByline(strings.TrimRight(a.Text, "\n"), a.Author) + "\n\n" + connectors.AdditionMarker(a.Key)
	if _, err := j.api.Do(ctx, rest.Request{Op: "add", Method: http.MethodPost, Path: path, JSON: map[string]any{"body": body, "public": true}}, nil); err != nil {
		return err
	}
	for _, f := range a.Attachments {
		if err := jira.AttachFile(ctx, j.api, "add", jira.RemoteRef(r), f); err != nil {
			return err
		}
	}
	return nil
}

// FindAddition pages through the request's public comments
// (GET /rest/servicedeskapi/request/{id}/comment?internal=false) for one
// whose last line is the key's marker.
func (j *connector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	path, err := jira.IssuePath("/rest/servicedeskapi/request/", jira.RemoteRef(r), "/comment")
	if err != nil {
		return false, permanent("find addition", err)
	}
	marker := connectors.AdditionMarker(key)
	for start := 0; ; {
		var page struct {
			Size       int  `json:"size"`
			IsLastPage bool `json:"isLastPage"`
			Values     []struct {
				Body string `json:"body"`
			} `json:"values"`
		}
		q := url.Values{"public": {"true"}, "internal": {"false"}, "start": {strconv.Itoa(start)}, "limit": {strconv.Itoa(additionPage)}}
		if _, err := j.api.Do(ctx, rest.Request{Op: "find addition", Method: http.MethodGet, Path: path, Query: q}, &page); err != nil {
			return false, err
		}
		for _, c := range page.Values {
			if endsWithLine(c.Body, marker) {
				return true, nil
			}
		}
		if page.IsLastPage || len(page.Values) == 0 {
			return false, nil
		}
		start += len(page.Values)
	}
}

// endsWithLine reports whether body's last non-blank line is line.
func endsWithLine(body, line string) bool {
	body = strings.TrimRight(body, " \t\r\n")
	i := strings.LastIndexByte(body, '\n')
	return strings.TrimSpace(body[i+1:]) == line
}
