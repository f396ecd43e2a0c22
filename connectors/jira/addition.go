package jira

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// AdditionProperty is the comment property that carries an addition's
// key: {"key": "<delivery key>"}, set in the same request that creates the
// comment, so a comment never exists without it.
const AdditionProperty = "ticketray.addition"

// additionPage is how many comments FindAddition reads per page; the
// comment list endpoint takes their ids, at most 1000, in one call.
const additionPage = 50

var _ connectors.Adder = (*connector)(nil)

// Add posts a.Text as a comment visible to everyone who can see the issue
// (no visibility restriction), with a.Key in the AdditionProperty comment
// property, then uploads a.Attachments.
func (j *connector) Add(ctx context.Context, r connectors.Remote, a *connectors.Addition) error {
	if a.Key == "" || strings.TrimSpace(a.Text) == "" {
		return permanent("add", errors.New("the addition has no key or no text"))
	}
	path, err := IssuePath("/rest/api/3/issue/", RemoteRef(r), "/comment")
	if err != nil {
		return permanent("add", err)
	}
	body := map[string]any{
		"body":       TextADF(WithByline(a.Text, a.Author)),
		"properties": []map[string]any{{"key": AdditionProperty, "value": map[string]string{"key": a.Key}}},
	}
	if _, err := j.api.Do(ctx, rest.Request{Op: "add", Method: http.MethodPost, Path: path, JSON: body}, nil); err != nil {
		return err
	}
	for _, f := range a.Attachments {
		if err := AttachFile(ctx, j.api, "add", RemoteRef(r), f); err != nil {
			return err
		}
	}
	return nil
}

// WithByline ends text with a line naming the reporter, since the comment's
// author is the connection's account.
func WithByline(text string, u connectors.User) string {
	who := strings.TrimSpace(u.Name)
	if u.Email != "" {
		if who == "" {
			who = u.Email
		} else {
			who += " <" + u.Email + ">"
		}
	}
	if who == "" {
		return text
	}
	return strings.TrimRight(text, "\n") + "\n\n— " + who + " (via Ticketray)"
}

// FindAddition pages through the issue's comments, newest first, and reads
// each page's AdditionProperty through the comment list endpoint
// (expand=properties, which the issue's comment endpoint does not
// document): two requests per page of 50 comments.
func (j *connector) FindAddition(ctx context.Context, r connectors.Remote, key string) (bool, error) {
	path, err := IssuePath("/rest/api/3/issue/", RemoteRef(r), "/comment")
	if err != nil {
		return false, permanent("find addition", err)
	}
	for start := 0; ; {
		var page struct {
			StartAt    int `json:"startAt"`
			MaxResults int `json:"maxResults"`
			Total      int `json:"total"`
			Comments   []struct {
				ID string `json:"id"`
			} `json:"comments"`
		}
		q := url.Values{"startAt": {strconv.Itoa(start)}, "maxResults": {strconv.Itoa(additionPage)}, "orderBy": {"-created"}}
		if _, err := j.api.Do(ctx, rest.Request{Op: "find addition", Method: http.MethodGet, Path: path, Query: q}, &page); err != nil {
			return false, err
		}
		ids := make([]int64, 0, len(page.Comments))
		for _, c := range page.Comments {
			id, err := strconv.ParseInt(c.ID, 10, 64)
			if err != nil {
				return false, permanent("find addition", errors.New("comment id is not a number"))
			}
			ids = append(ids, id)
		}
		if found, err := commentsCarry(ctx, j.api, ids, key); err != nil || found {
			return found, err
		}
		start += len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			return false, nil
		}
	}
}

// commentsCarry reports whether one of the comments ids has the
// AdditionProperty with key.
func commentsCarry(ctx context.Context, api *rest.Client, ids []int64, key string) (bool, error) {
	if len(ids) == 0 {
		return false, nil
	}
	var out struct {
		Values []struct {
			Properties []struct {
				Key   string          `json:"key"`
				Value json.RawMessage `json:"value"`
			} `json:"properties"`
		} `json:"values"`
	}
	req := rest.Request{Op: "find addition", Method: http.MethodPost, Path: "/rest/api/3/comment/list",
		Query: url.Values{"expand": {"properties"}}, JSON: map[string]any{"ids": ids}}
	if _, err := api.Do(ctx, req, &out); err != nil {
		return false, err
	}
	for _, c := range out.Values {
		for _, p := range c.Properties {
			var v struct {
				Key string `json:"key"`
			}
			if p.Key == AdditionProperty && json.Unmarshal(p.Value, &v) == nil && v.Key == key {
				return true, nil
			}
		}
	}
	return false, nil
}
