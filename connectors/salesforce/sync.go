package salesforce

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/ticketray/ticketray/connectors"
	"github.com/ticketray/ticketray/connectors/rest"
)

// CategoryClosed is Update.Category for a Case whose status closes it
// (Case.IsClosed, set from the status's CaseStatus.IsClosed): the row an
// org's own closed statuses fall back to.
const CategoryClosed = "IsClosed"

// statusRows are the built-in status rows: the standard Case Status
// values (New, Working, Escalated, Closed), values orgs often add, and
// IsClosed for any other status that closes the Case. mappings.status
// overrides them.
var statusRows = map[string]string{
	"New":                 connectors.StateBacklog,
	"Working":             connectors.StateInProgress,
	"In Progress":         connectors.StateInProgress,
	"Escalated":           connectors.StateInProgress,
	"Waiting on Customer": connectors.StateWaitingOnYou,
	"Resolved":            connectors.StateResolved,
	"Closed":              connectors.StateClosed,
	CategoryClosed:        connectors.StateClosed,
}

// syncBatch is how many Case ids one sync query names. 100 ids keep the
// request URI near 3.5 KB, well inside the REST API's 16,384 bytes for the
// URI and headers together (knowledge article 000386264).
const syncBatch = 100

// soqlTime is SOQL's date-time literal form (unquoted, UTC).
const soqlTime = "2006-01-02T15:04:05Z"

var _ connectors.Syncer = (*Connector)(nil)

// Sync reads the Cases in one SOQL query per 100 of them (and the query's
// further batches, if the org pages them): Status, IsClosed,
// LastModifiedDate, the owner, and the public Case comments (IsPublished)
// since since in a CaseComments subquery. It is scoped like Find (the
// connection's Origin, the key field set). A Case is reported when it was
// modified at or after since or has new public comments: a comment need
// not touch the Case's LastModifiedDate, and SOQL cannot OR a comment
// semi-join with the date, so the date filter is applied here.
func (c *Connector) Sync(ctx context.Context, since time.Time, remotes []connectors.Remote) ([]connectors.Update, error) {
	const op = "sync"
	// SOQL date-times have seconds: compare at that grain here too, so a
	// change in since's own second is never lost.
	since = since.Truncate(time.Second)
	var ids []string
	for _, r := range remotes {
		if isID(r.ID, "500") && !slices.Contains(ids, r.ID) {
			ids = append(ids, r.ID)
		}
	}
	return connectors.SyncBatches(ids, syncBatch, func(chunk []string) ([]connectors.Update, error) {
		var recs []syncRecord
		if err := c.queryAll(ctx, op, c.syncQuery(since, chunk), &recs); err != nil {
			return nil, err
		}
		var out []connectors.Update
		for _, rec := range recs {
			if err := c.moreComments(ctx, op, &rec); err != nil {
				return nil, err
			}
			if u, changed := c.update(rec, since); changed {
				out = append(out, u)
			}
		}
		return out, nil
	})
}

// syncQuery is the SOQL for one batch of Case ids.
func (c *Connector) syncQuery(since time.Time, ids []string) string {
	comments := "IsPublished = true"
	if !since.IsZero() {
		comments += " AND CreatedDate >= " + since.UTC().Format(soqlTime)
	}
	quoted := make([]string, len(ids))
	for i, id := range ids {
		quoted[i] = "'" + id + "'"
	}
	return fmt.Sprintf("SELECT Id, CaseNumber, Status, IsClosed, LastModifiedDate, CreatedById, OwnerId, Owner.Type, Owner.Name, "+
		"(SELECT Id, CommentBody, CreatedDate, CreatedBy.Name FROM CaseComments WHERE %s ORDER BY CreatedDate ASC) "+
		"FROM Case WHERE Id IN (%s) AND Origin = '%s' AND %s != null",
		comments, strings.Join(quoted, ", "), soqlEscape(c.origin), c.extField)
}

// syncRecord is a Case as the sync query returns it.
type syncRecord struct {
	ID               string `json:"Id"`
	CaseNumber       string `json:"CaseNumber"`
	Status           string `json:"Status"`
	IsClosed         bool   `json:"IsClosed"`
	LastModifiedDate string `json:"LastModifiedDate"`
	CreatedByID      string `json:"CreatedById"`
	OwnerID          string `json:"OwnerId"`
	Owner            *struct {
		Type string `json:"Type"`
		Name string `json:"Name"`
	} `json:"Owner"`
	// CaseComments is null when the Case has no comment the subquery
	// selects.
	CaseComments *queryPage[commentRecord] `json:"CaseComments"`
}

type commentRecord struct {
	ID          string `json:"Id"`
	CommentBody string `json:"CommentBody"`
	CreatedDate string `json:"CreatedDate"`
	CreatedBy   *struct {
		Name string `json:"Name"`
	} `json:"CreatedBy"`
}

// queryPage is one batch of a query result.
type queryPage[T any] struct {
	Done           bool   `json:"done"`
	NextRecordsURL string `json:"nextRecordsUrl"`
	Records        []T    `json:"records"`
}

// queryAll runs a SOQL query and follows nextRecordsUrl until done.
func (c *Connector) queryAll(ctx context.Context, op, soql string, out *[]syncRecord) error {
	req := rest.Request{Op: op, Method: http.MethodGet, Path: c.data + "/query", Query: url.Values{"q": {soql}}}
	for {
		var page queryPage[syncRecord]
		if _, err := c.do(ctx, req, &page); err != nil {
			return err
		}
		*out = append(*out, page.Records...)
		if page.Done {
			return nil
		}
		next, err := c.nextPage(op, page.NextRecordsURL)
		if err != nil {
			return err
		}
		req = next
	}
}

// moreComments reads the rest of a Case's comments when the org paged the
// subquery (many comments since the last sync).
func (c *Connector) moreComments(ctx context.Context, op string, rec *syncRecord) error {
	for p := rec.CaseComments; p != nil && !p.Done; {
		req, err := c.nextPage(op, p.NextRecordsURL)
		if err != nil {
			return err
		}
		var page queryPage[commentRecord]
		if _, err := c.do(ctx, req, &page); err != nil {
			return err
		}
		p.Records = append(p.Records, page.Records...)
		p.Done, p.NextRecordsURL = page.Done, page.NextRecordsURL
	}
	return nil
}

// nextPage is the request for a nextRecordsUrl, which must be a query
// locator of this API version.
func (c *Connector) nextPage(op, next string) (rest.Request, error) {
	loc, ok := strings.CutPrefix(next, c.data+"/query/")
	if !ok || loc == "" || strings.ContainsAny(loc, "/?#") {
		return rest.Request{}, &connectors.Error{Op: op, Class: connectors.Retryable, Err: fmt.Errorf("the org answered an unfinished query without a query locator")}
	}
	return rest.Request{Op: op, Method: http.MethodGet, Path: next}, nil
}

// update turns a Case into an Update; changed says whether it was
// modified, or commented on in public, at or after since.
func (c *Connector) update(rec syncRecord, since time.Time) (connectors.Update, bool) {
	u := connectors.Update{Remote: c.remote(caseRecord{ID: rec.ID, CaseNumber: rec.CaseNumber}), Status: rec.Status}
	if rec.IsClosed {
		u.Category = CategoryClosed
	}
	// A Case still owned by the user that created it (Ticketray's
	// integration user) or by a queue has nobody working on it yet.
	if o := rec.Owner; o != nil && o.Type == "User" && rec.OwnerID != rec.CreatedByID {
		u.Assignee = o.Name
	}
	if t, err := time.Parse(timeLayout, rec.LastModifiedDate); err == nil {
		u.UpdatedAt = t.UTC()
	}
	changed := since.IsZero() || !u.UpdatedAt.Before(since)
	if rec.CaseComments != nil {
		for _, cm := range rec.CaseComments.Records {
			rc := connectors.RemoteComment{ID: cm.ID, Body: cm.CommentBody}
			if cm.CreatedBy != nil {
				rc.Author = cm.CreatedBy.Name
			}
			if t, err := time.Parse(timeLayout, cm.CreatedDate); err == nil {
				rc.CreatedAt = t.UTC()
			}
			if rc.CreatedAt.After(u.UpdatedAt) {
				u.UpdatedAt = rc.CreatedAt
			}
			u.Comments = append(u.Comments, rc)
			changed = true
		}
	}
	return u, changed
}
