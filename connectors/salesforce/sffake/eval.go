package sffake

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// soqlError is a query the org refuses: its error code and message.
type soqlError struct{ code, msg string }

func (e *soqlError) Error() string { return e.code + ": " + e.msg }

func invalidField(format string, a ...any) error {
	return &soqlError{"INVALID_FIELD", fmt.Sprintf(format, a...)}
}

// Field kinds as a query sees them.
const (
	kString   = "string"
	kLongText = "longtext" // long text areas: selectable, not filterable
	kID       = "id"
	kBool     = "bool"
	kDatetime = "datetime"
)

// objectSchema is what a query may name on one object.
type objectSchema struct {
	name     string
	fields   map[string][2]string // lower name → {API name, kind}
	rels     map[string]relSchema // lower relationship name → its target
	children map[string]string    // lower child relationship name → child object
}

// relSchema is a lookup relationship: Owner (polymorphic: the Name
// object), CreatedBy (User).
type relSchema struct {
	name, idField, attrType string
	fields                  map[string][2]string
}

var nameFields = map[string][2]string{"id": {"Id", kID}, "name": {"Name", kString}, "type": {"Type", kString}}
var userFields = map[string][2]string{"id": {"Id", kID}, "name": {"Name", kString}}

// column is a resolved SELECT, WHERE or ORDER BY field.
type column struct {
	rel  string // the relationship's API name, "" for a field of the object
	name string // the field's API name
	kind string
}

// caseSchema is Case for queries; the caller holds f.mu.
func (f *Fake) caseSchema() objectSchema {
	s := objectSchema{name: "Case", fields: map[string][2]string{},
		rels: map[string]relSchema{
			"owner":     {name: "Owner", idField: "OwnerId", attrType: "Name", fields: nameFields},
			"createdby": {name: "CreatedBy", idField: "CreatedById", attrType: "User", fields: userFields},
		},
		children: map[string]string{"casecomments": "CaseComments"}}
	for _, d := range f.fieldDefs() {
		k := kString
		switch {
		case d.kind == "id" || d.kind == "reference":
			k = kID
		case d.kind == "boolean":
			k = kBool
		case d.kind == "datetime":
			k = kDatetime
		case d.kind == "textarea" && d.length > 255:
			k = kLongText
		}
		s.fields[strings.ToLower(d.name)] = [2]string{d.name, k}
	}
	return s
}

// commentSchema is CaseComment for queries (the CaseComments subquery).
var commentSchema = objectSchema{name: "CaseComment",
	fields: map[string][2]string{
		"id": {"Id", kID}, "parentid": {"ParentId", kID}, "commentbody": {"CommentBody", kLongText},
		"ispublished": {"IsPublished", kBool}, "isdeleted": {"IsDeleted", kBool},
		"createddate": {"CreatedDate", kDatetime}, "createdbyid": {"CreatedById", kID},
		"lastmodifieddate": {"LastModifiedDate", kDatetime}, "systemmodstamp": {"SystemModstamp", kDatetime},
	},
	rels: map[string]relSchema{"createdby": {name: "CreatedBy", idField: "CreatedById", attrType: "User", fields: userFields}},
}

func (s objectSchema) resolve(name string) (column, error) {
	rel, field, dotted := strings.Cut(name, ".")
	if !dotted {
		if d, ok := s.fields[strings.ToLower(name)]; ok {
			return column{name: d[0], kind: d[1]}, nil
		}
		return column{}, invalidField("No such column '%s' on entity '%s'. If you are attempting to use a custom field, be sure to append the '__c' after the custom field name.", name, s.name)
	}
	r, ok := s.rels[strings.ToLower(rel)]
	if !ok || strings.Contains(field, ".") {
		return column{}, invalidField("Didn't understand relationship '%s' in field path. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.", rel)
	}
	d, ok := r.fields[strings.ToLower(field)]
	if !ok {
		return column{}, invalidField("No such column '%s' on entity '%s'.", field, r.attrType)
	}
	return column{rel: r.name, name: d[0], kind: d[1]}, nil
}

// checkConds holds each condition to the field's type, as the org does.
func (s objectSchema) checkConds(conds []cond) ([]column, error) {
	cols := make([]column, len(conds))
	for i, c := range conds {
		col, err := s.resolve(c.field)
		if err != nil {
			return nil, err
		}
		cols[i] = col
		switch {
		case col.kind == kLongText:
			return nil, invalidField("field '%s' can not be filtered in a query call", col.name)
		case c.kind == "null" && c.op != "=" && c.op != "!=":
			return nil, &soqlError{"MALFORMED_QUERY", "null can only be compared with = or !="}
		case c.kind == "null":
		case col.kind == kBool && (c.kind != "bool" || (c.op != "=" && c.op != "!=")):
			return nil, invalidField("value of filter criterion for field '%s' must be of type boolean and should not be enclosed in quotes", col.name)
		case col.kind == kDatetime && c.kind != "datetime":
			return nil, invalidField("value of filter criterion for field '%s' must be of type dateTime and should not be enclosed in quotes", col.name)
		case (col.kind == kString || col.kind == kID) && c.op != "IN" && c.kind != "str":
			return nil, invalidField("value of filter criterion for field '%s' must be of type string and should be enclosed in quotes", col.name)
		case col.kind == kID:
			for _, v := range append(slices.Clone(c.values), c.value) {
				if v != "" && !validID(v) || c.op != "IN" && v == "" {
					return nil, &soqlError{"INVALID_QUERY_FILTER_OPERATOR", "invalid ID field: " + v}
				}
			}
		}
	}
	return cols, nil
}

func validID(s string) bool {
	if len(s) != 15 && len(s) != 18 {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

// val is one field's value in a row.
type val struct {
	s    string
	t    time.Time
	null bool
}

// row reads a record's fields by column.
type row struct {
	id, typ string
	get     func(column) val
}

// caseRow reads a Case; the caller holds f.mu.
func (f *Fake) caseRow(c *Case) row {
	return row{id: c.ID, typ: "Case", get: func(col column) val {
		if col.rel != "" {
			return f.principalField(c.Fields[col.rel+"Id"], col.name)
		}
		switch col.name {
		case "Id":
			return val{s: c.ID}
		case "CreatedDate":
			return val{t: c.Created}
		case "LastModifiedDate", "SystemModstamp":
			return val{t: c.LastModified}
		}
		v := c.Fields[col.name]
		return val{s: v, null: v == ""}
	}}
}

// commentRow reads a CaseComment; the caller holds f.mu.
func (f *Fake) commentRow(cm *Comment) row {
	return row{id: cm.ID, typ: "CaseComment", get: func(col column) val {
		if col.rel != "" {
			return f.principalField(cm.CreatedByID, col.name)
		}
		switch col.name {
		case "Id":
			return val{s: cm.ID}
		case "ParentId":
			return val{s: cm.ParentID}
		case "CommentBody":
			return val{s: cm.Body}
		case "IsPublished":
			return val{s: strconv.FormatBool(cm.IsPublished)}
		case "IsDeleted":
			return val{s: "false"}
		case "CreatedById":
			return val{s: cm.CreatedByID}
		}
		return val{t: cm.Created} // the dates: comments are not edited here
	}}
}

// principalField is a field of the user or queue with the id.
func (f *Fake) principalField(id, field string) val {
	name, ok := f.principals[id]
	switch {
	case id == "" || !ok:
		return val{null: true}
	case field == "Id":
		return val{s: id}
	case field == "Type":
		if strings.HasPrefix(id, "00G") {
			return val{s: "Queue"}
		}
		return val{s: "User"}
	}
	return val{s: name}
}

func (r row) match(conds []cond, cols []column) bool {
	for i, c := range conds {
		if !compare(r.get(cols[i]), c, cols[i].kind) {
			return false
		}
	}
	return true
}

func compare(v val, c cond, kind string) bool {
	if c.kind == "null" {
		return v.null == (c.op == "=")
	}
	if v.null && kind != kDatetime {
		return c.op == "!="
	}
	var n int
	switch kind {
	case kDatetime:
		lit, _ := parseDatetime(c.value)
		n = v.t.Compare(lit)
	case kID:
		if c.op == "IN" {
			return slices.ContainsFunc(c.values, func(x string) bool { return sameID(v.s, x) })
		}
		if !sameID(v.s, c.value) {
			n = strings.Compare(v.s, c.value)
		}
	default:
		if c.op == "IN" {
			return slices.ContainsFunc(c.values, func(x string) bool { return strings.EqualFold(v.s, x) })
		}
		n = strings.Compare(strings.ToLower(v.s), strings.ToLower(c.value)) // text comparison is case-insensitive
	}
	switch c.op {
	case "=":
		return n == 0
	case "!=":
		return n != 0
	case "<":
		return n < 0
	case "<=":
		return n <= 0
	case ">":
		return n > 0
	}
	return n >= 0
}

// sameID compares record ids: a 15-character id is the case-sensitive
// stem of the 18-character one.
func sameID(a, b string) bool {
	if len(a) < 15 || len(b) < 15 {
		return false
	}
	if len(a) == 18 && len(b) == 18 {
		return a == b
	}
	return a[:15] == b[:15]
}

// sortRows orders rows by the column; nulls first, as SOQL's ASC.
func sortRows(rows []row, col column, desc bool) {
	slices.SortStableFunc(rows, func(a, b row) int {
		va, vb := a.get(col), b.get(col)
		n := 0
		switch {
		case col.kind == kDatetime:
			n = va.t.Compare(vb.t)
		case va.null != vb.null:
			n = map[bool]int{true: -1, false: 1}[va.null]
		default:
			n = strings.Compare(strings.ToLower(va.s), strings.ToLower(vb.s))
		}
		if desc {
			return -n
		}
		return n
	})
}

// render is a row as the REST API returns it: attributes, the plain
// fields, and each relationship as a nested record (null when empty).
func (f *Fake) renderRow(r row, cols []column, ver string) map[string]any {
	out := map[string]any{"attributes": map[string]string{"type": r.typ, "url": "/services/data/" + ver + "/sobjects/" + r.typ + "/" + r.id}}
	for _, col := range cols {
		v := r.get(col)
		var x any
		switch {
		case col.kind == kDatetime:
			x = v.t.UTC().Format(timeLayout)
		case v.null:
			x = nil
		case col.kind == kBool:
			x = v.s == "true"
		default:
			x = v.s
		}
		if col.rel == "" {
			out[col.name] = x
			continue
		}
		id := r.get(column{rel: col.rel, name: "Id", kind: kID})
		if id.null {
			out[col.rel] = nil
			continue
		}
		nested, _ := out[col.rel].(map[string]any)
		if nested == nil {
			typ := "User"
			if strings.HasPrefix(id.s, "00G") {
				typ = "Group"
			}
			attr := "User"
			if col.rel == "Owner" {
				attr = "Name"
			}
			nested = map[string]any{"attributes": map[string]string{"type": attr, "url": "/services/data/" + ver + "/sobjects/" + typ + "/" + id.s}}
			out[col.rel] = nested
		}
		nested[col.name] = x
	}
	return out
}

// run answers a parsed query on Case; the caller holds f.mu.
func (f *Fake) run(q *query, ver string) (map[string]any, error) {
	if !strings.EqualFold(q.object, "Case") {
		return nil, &soqlError{"INVALID_TYPE", fmt.Sprintf("sObject type '%s' is not supported.", q.object)}
	}
	s := f.caseSchema()
	var rows []row
	for _, c := range f.cases {
		rows = append(rows, f.caseRow(c))
	}
	records, err := f.select1(s, q, rows, ver, func(r row, sub *query, cols []column, subRows []row) any {
		var mine []row
		for _, cr := range subRows {
			if sameID(cr.get(column{name: "ParentId", kind: kID}).s, r.id) {
				mine = append(mine, cr)
			}
		}
		if sub.limit >= 0 && len(mine) > sub.limit {
			mine = mine[:sub.limit]
		}
		if len(mine) == 0 {
			return nil // an empty child relationship is null
		}
		recs := make([]map[string]any, len(mine))
		for i, cr := range mine {
			recs[i] = f.renderRow(cr, cols, ver)
		}
		return f.page(ver, recs, f.childBatch)
	})
	if err != nil {
		return nil, err
	}
	return f.page(ver, records, f.batch), nil
}

// select1 filters, sorts and renders rows of s for q, with each subquery
// rendered by child; the caller holds f.mu.
func (f *Fake) select1(s objectSchema, q *query, rows []row, ver string, child func(r row, sub *query, cols []column, subRows []row) any) ([]map[string]any, error) {
	cols, err := resolveAll(s, q.fields)
	if err != nil {
		return nil, err
	}
	wcols, err := s.checkConds(q.where)
	if err != nil {
		return nil, err
	}
	type subPlan struct {
		q    *query
		name string
		cols []column
		rows []row
	}
	var subs []subPlan
	for _, sub := range q.subs {
		name, ok := s.children[strings.ToLower(sub.object)]
		if !ok {
			return nil, invalidField("Didn't understand relationship '%s' in FROM part of query call. If you are attempting to use a custom relationship, be sure to append the '__r' after the custom relationship name.", sub.object)
		}
		scols, err := resolveAll(commentSchema, sub.fields)
		if err != nil {
			return nil, err
		}
		swcols, err := commentSchema.checkConds(sub.where)
		if err != nil {
			return nil, err
		}
		var srows []row
		for i := range f.comments {
			if r := f.commentRow(&f.comments[i]); r.match(sub.where, swcols) {
				srows = append(srows, r)
			}
		}
		if sub.orderBy != "" {
			oc, err := commentSchema.resolve(sub.orderBy)
			if err != nil {
				return nil, err
			}
			sortRows(srows, oc, sub.desc)
		}
		subs = append(subs, subPlan{sub, name, scols, srows})
	}
	var kept []row
	for _, r := range rows {
		if r.match(q.where, wcols) {
			kept = append(kept, r)
		}
	}
	if q.orderBy != "" {
		oc, err := s.resolve(q.orderBy)
		if err != nil {
			return nil, err
		}
		sortRows(kept, oc, q.desc)
	}
	if q.limit >= 0 && len(kept) > q.limit {
		kept = kept[:q.limit]
	}
	out := make([]map[string]any, 0, len(kept))
	for _, r := range kept {
		rec := f.renderRow(r, cols, ver)
		for _, sp := range subs {
			rec[sp.name] = child(r, sp.q, sp.cols, sp.rows)
		}
		out = append(out, rec)
	}
	return out, nil
}

func resolveAll(s objectSchema, names []string) ([]column, error) {
	cols := make([]column, 0, len(names))
	for _, n := range names {
		c, err := s.resolve(n)
		if err != nil {
			return nil, err
		}
		cols = append(cols, c)
	}
	return cols, nil
}

// page is a query result: the first batch of records, and a query
// locator for the rest (nextRecordsUrl); the caller holds f.mu.
func (f *Fake) page(ver string, records []map[string]any, batch int) map[string]any {
	out := map[string]any{"totalSize": len(records), "done": true, "records": records}
	if batch > 0 && len(records) > batch {
		f.seq++
		loc := fmt.Sprintf("01gFK%010dAAA", f.seq)
		f.cursors[loc] = cursor{records, batch}
		out["done"] = false
		out["records"] = records[:batch]
		out["nextRecordsUrl"] = fmt.Sprintf("/services/data/%s/query/%s-%d", ver, loc, batch)
	}
	return out
}

// cursor is what a query locator has left to give.
type cursor struct {
	records []map[string]any
	batch   int
}

// more answers GET /query/<locator>-<offset>; the caller holds f.mu.
func (f *Fake) more(ver, locator string) (map[string]any, bool) {
	loc, off, ok := strings.Cut(locator, "-")
	n, err := strconv.Atoi(off)
	cur, found := f.cursors[loc]
	if !ok || err != nil || !found || n <= 0 || n > len(cur.records) {
		return nil, false
	}
	rest := cur.records[n:]
	out := map[string]any{"totalSize": len(cur.records), "done": true, "records": rest}
	if batch := cur.batch; len(rest) > batch {
		out["done"] = false
		out["records"] = rest[:batch]
		out["nextRecordsUrl"] = fmt.Sprintf("/services/data/%s/query/%s-%d", ver, loc, n+batch)
	}
	return out, true
}
