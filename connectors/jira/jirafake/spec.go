package jirafake

import (
	_ "embed"
	"errors"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/ticketray/ticketray/connectors/fake/openapi"
)

// The vendor spec (Apache-2.0, via dichovsky/atlassian-api-client, MIT; see
// testdata/) is embedded so tests do not depend on files outside the repo.
//
//go:embed testdata/jira-platform-v3.swagger-v3.v3.json
var jiraSpecJSON []byte

// JiraSpec returns the embedded Jira Cloud platform v3 spec, loaded once
// per process (about half a second and 20 MiB; every fake shares it).
func JiraSpec() (*openapi.Spec, error) { return jiraSpec() }

var jiraSpec = sync.OnceValues(func() (*openapi.Spec, error) {
	return openapi.LoadSpec("jira-platform-v3", jiraSpecJSON, patchJiraSpec)
})

// patchJiraSpec fixes the one operation whose schema kin-openapi cannot use.
// The attachments body is declared as an array of Spring's MultipartFile,
// which no multipart decoder can map to form parts; the operation's
// description says the part must be named "file". Stating exactly that
// keeps the body validated (multipart, a "file" part, nothing else) instead
// of excluding it.
func patchJiraSpec(doc *openapi3.T) error {
	item := doc.Paths.Value("/rest/api/3/issue/{issueIdOrKey}/attachments")
	if item == nil || item.Post == nil || item.Post.RequestBody == nil || item.Post.RequestBody.Value == nil {
		return errors.New("addAttachment operation not found")
	}
	mt := item.Post.RequestBody.Value.Content.Get("multipart/form-data")
	if mt == nil {
		return errors.New("addAttachment has no multipart/form-data body")
	}
	file := openapi3.NewArraySchema().WithItems(openapi3.NewStringSchema().WithFormat("binary")).WithMinItems(1)
	mt.Schema = openapi3.NewObjectSchema().
		WithProperty("file", file).
		WithRequired([]string{"file"}).
		WithoutAdditionalProperties().
		NewRef()
	return nil
}
