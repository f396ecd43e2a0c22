package jira

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ticketray/ticketray/connectors"
)

// MaxRichText is Jira's limit for a rich-text field. It is counted here on
// the serialized ADF, which is never shorter than the characters Jira
// counts, so a description that fits here fits there.
const MaxRichText = 32767

// maxSkillOutput bounds one skill's output in a description: staff need
// the gist, and the whole output can be attached.
const maxSkillOutput = 4000

// Section is one titled part of a description after the user's own text:
// who reported it, the system information, each skill's result.
type Section struct {
	Title string
	Items []Item // "label: value" lines
	Code  string // preformatted output, "" for none
}

// Item is one "label: value" line of a section.
type Item struct{ Label, Value string }

// Sections describes a ticket's reporter, system and skill results, in the
// order they appear after the description. Empty values are left out.
func Sections(t *connectors.Ticket) []Section {
	var out []Section
	add := func(s Section) {
		if len(s.Items) > 0 || s.Code != "" {
			out = append(out, s)
		}
	}
	items := func(pairs ...string) []Item {
		var it []Item
		for i := 0; i+1 < len(pairs); i += 2 {
			if v := strings.TrimSpace(pairs[i+1]); v != "" {
				it = append(it, Item{pairs[i], v})
			}
		}
		return it
	}

	add(Section{Title: "Reported by", Items: items("Name", t.User.Name, "Email", t.User.Email, "User ID", t.User.ID)})

	if si := t.SystemInfo; si != nil {
		os := strings.TrimSpace(si.OSName + " " + si.OSVersion)
		if si.OSBuild != "" {
			os += " (" + si.OSBuild + ")"
		}
		cpu := si.CPUModel
		if si.CPUCores > 0 {
			cpu = strings.TrimSpace(fmt.Sprintf("%s (%d cores)", cpu, si.CPUCores))
		}
		mem := ""
		if si.MemoryTotalMB > 0 {
			mem = fmt.Sprintf("%d MB used of %d MB", si.MemoryUsedMB, si.MemoryTotalMB)
		}
		uptime := ""
		if si.UptimeSeconds > 0 {
			uptime = (time.Duration(si.UptimeSeconds) * time.Second).String()
		}
		partial := ""
		if si.Partial {
			partial = "some probes failed; this information is incomplete"
		}
		add(Section{Title: "System information", Items: items(
			"OS", os, "Architecture", si.Architecture, "Device", si.DeviceName, "Device ID", si.DeviceID,
			"CPU", cpu, "Memory", mem, "Uptime", uptime, "Time zone", si.Timezone, "Note", partial)})
	}

	for _, r := range t.SkillResults {
		name := r.SkillName
		if name == "" {
			name = r.SkillID
		}
		add(Section{
			Title: "Skill: " + name,
			Items: items("Status", r.Status, "Duration", strconv.FormatInt(r.ExecutionTimeMs, 10)+" ms", "Skill ID", r.SkillID),
			Code:  clip(r.Output, maxSkillOutput),
		})
	}

	if ts := t.Context.TroubleshootingSession; ts != nil {
		add(Section{Title: "Troubleshooting session", Items: items(
			"Steps", fmt.Sprintf("%d attempted, %d successful", ts.StepsAttempted, ts.StepsSuccessful),
			"Duration", (time.Duration(ts.DurationMs) * time.Millisecond).String())})
	}
	created := ""
	if !t.CreatedAt.IsZero() {
		created = t.CreatedAt.UTC().Format(time.RFC3339)
	}
	add(Section{Title: "Ticketray", Items: items(
		"Priority", string(t.Priority), "Category", t.Category, "Reported at", created,
		"App version", t.Context.AppVersion, "Session ID", t.Context.SessionID, "Correlation ID", t.Context.CorrelationID)})
	return out
}

// clip shortens s to at most n runes, saying so.
func clip(s string, n int) string {
	s = strings.TrimRight(s, " \t\r\n")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "\n… (truncated)"
}

// Node is an Atlassian Document Format node.
type Node struct {
	Type    string         `json:"type"`
	Attrs   map[string]any `json:"attrs,omitempty"`
	Content []Node         `json:"content,omitempty"`
	Text    string         `json:"text,omitempty"`
	Marks   []Mark         `json:"marks,omitempty"`
}

// Mark is an ADF text mark (strong, em, code, …).
type Mark struct {
	Type string `json:"type"`
}

// Doc is an ADF document, the value of every rich-text field in REST v3.
type Doc struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
	Content []Node `json:"content"`
}

// DescriptionADF renders a ticket as an ADF document: the description's
// paragraphs, then a heading and a bullet list per section, skill output in
// code blocks. If it would exceed MaxRichText, skill output goes first,
// then the end of the description.
func DescriptionADF(t *connectors.Ticket) Doc {
	secs := Sections(t)
	doc := buildDoc(t.Description, secs)
	if adfSize(doc) <= MaxRichText {
		return doc
	}
	for i := range secs {
		if secs[i].Code != "" {
			secs[i].Code = ""
			secs[i].Items = append(secs[i].Items, Item{"Output", "left out: the description was too long for Jira"})
		}
	}
	desc := []rune(t.Description)
	for n := len(desc); ; {
		doc = buildDoc(string(desc[:n])+truncatedNote(n < len(desc)), secs)
		over := adfSize(doc) - MaxRichText
		if over <= 0 || n == 0 {
			return doc
		}
		n = max(n-over-16, 0)
	}
}

func truncatedNote(cut bool) string {
	if cut {
		return "\n\n… (truncated: too long for Jira)"
	}
	return ""
}

// adfSize is the document's JSON length without HTML escaping (which
// json.Marshal applies, and which Jira decodes before counting).
func adfSize(d Doc) int {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(d)  // a Doc always encodes
	return b.Len() - 1 // Encode's newline
}

// TextADF renders plain text as ADF paragraphs (blank lines separate
// paragraphs, single newlines become hard breaks).
func TextADF(text string) Doc {
	return Doc{Type: "doc", Version: 1, Content: paragraphs(text)}
}

func buildDoc(description string, secs []Section) Doc {
	content := paragraphs(description)
	for _, s := range secs {
		content = append(content, Node{Type: "heading", Attrs: map[string]any{"level": 3}, Content: inline(s.Title)})
		if len(s.Items) > 0 {
			list := Node{Type: "bulletList"}
			for _, it := range s.Items {
				p := Node{Type: "paragraph", Content: append([]Node{{Type: "text", Text: it.Label + ": ", Marks: []Mark{{Type: "strong"}}}}, inline(it.Value)...)}
				list.Content = append(list.Content, Node{Type: "listItem", Content: []Node{p}})
			}
			content = append(content, list)
		}
		if code := sanitize(s.Code); strings.TrimSpace(code) != "" {
			content = append(content, Node{Type: "codeBlock", Content: []Node{{Type: "text", Text: code}}})
		}
	}
	if content == nil {
		content = []Node{} // ADF requires the array, even empty
	}
	return Doc{Type: "doc", Version: 1, Content: content}
}

var blankLines = regexp.MustCompile(`\n[ \t]*\n`)

func paragraphs(text string) []Node {
	text = strings.TrimSpace(sanitize(text))
	if text == "" {
		return nil
	}
	var out []Node
	for _, block := range blankLines.Split(text, -1) {
		block = strings.Trim(block, "\n")
		if strings.TrimSpace(block) == "" {
			continue
		}
		var p Node
		p.Type = "paragraph"
		for i, line := range strings.Split(block, "\n") {
			if i > 0 {
				p.Content = append(p.Content, Node{Type: "hardBreak"})
			}
			p.Content = append(p.Content, inline(line)...)
		}
		out = append(out, p)
	}
	return out
}

// inline is a text node for s, or none: ADF forbids empty text nodes.
func inline(s string) []Node {
	s = strings.ReplaceAll(sanitize(s), "\n", " ")
	if s == "" {
		return nil
	}
	return []Node{{Type: "text", Text: s}}
}

// sanitize normalises newlines and drops control characters other than
// tab and newline, which Jira stores badly or rejects.
func sanitize(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case r == '\r':
			return '\n'
		case r < 0x20 || r == 0x7f || r == utf8.RuneError:
			return -1
		}
		return r
	}, s)
}

// PlainDescription renders a ticket as plain text for fields that take a
// string (Jira Service Management's requestFieldValues.description): the
// description, then each section as a title line and "- label: value"
// lines, output indented. It is cut to MaxRichText characters the same way
// as DescriptionADF.
func PlainDescription(t *connectors.Ticket) string {
	secs := Sections(t)
	s := plain(t.Description, secs)
	if utf8.RuneCountInString(s) <= MaxRichText {
		return s
	}
	for i := range secs {
		if secs[i].Code != "" {
			secs[i].Code = ""
			secs[i].Items = append(secs[i].Items, Item{"Output", "left out: the description was too long for Jira"})
		}
	}
	desc := []rune(t.Description)
	for n := len(desc); ; {
		s = plain(string(desc[:n])+truncatedNote(n < len(desc)), secs)
		over := utf8.RuneCountInString(s) - MaxRichText
		if over <= 0 || n == 0 {
			return s
		}
		n = max(n-over-16, 0)
	}
}

func plain(description string, secs []Section) string {
	var b strings.Builder
	b.WriteString(strings.TrimSpace(sanitize(description)))
	for _, s := range secs {
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(s.Title)
		for _, it := range s.Items {
			b.WriteString("\n- " + it.Label + ": " + strings.ReplaceAll(sanitize(it.Value), "\n", " "))
		}
		if code := sanitize(s.Code); strings.TrimSpace(code) != "" {
			b.WriteString("\nOutput:")
			for _, line := range strings.Split(code, "\n") {
				b.WriteString("\n    " + line)
			}
		}
	}
	return b.String()
}
