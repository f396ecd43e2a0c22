package jirafake

import (
	"encoding/json"
	"fmt"
)

// CheckADF reports why raw is not an Atlassian Document Format document, or
// nil. It enforces the structural rules of the ADF JSON schema for the
// nodes a ticket uses (doc, paragraph, heading, lists, code blocks, text,
// hard breaks, rules, quotes, panels), which is what Jira Cloud rejects a
// v3 rich-text field for; it does not implement the whole schema (tables,
// media and extensions are refused as unknown).
func CheckADF(raw json.RawMessage) error {
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(raw, &doc); err != nil {
		return fmt.Errorf("not a JSON object: %w", err)
	}
	var typ string
	var version int
	if err := json.Unmarshal(doc["type"], &typ); err != nil || typ != "doc" {
		return fmt.Errorf(`the root node must have "type":"doc"`)
	}
	if err := json.Unmarshal(doc["version"], &version); err != nil || version != 1 {
		return fmt.Errorf(`the root node must have "version":1`)
	}
	for k := range doc {
		if k != "type" && k != "version" && k != "content" {
			return fmt.Errorf("the root node has an unknown property %q", k)
		}
	}
	if _, ok := doc["content"]; !ok {
		return fmt.Errorf("the root node has no content array")
	}
	return checkChildren("doc", doc["content"], blockNodes, 0)
}

var (
	blockNodes  = set("paragraph", "heading", "bulletList", "orderedList", "codeBlock", "rule", "blockquote", "panel")
	inlineNodes = set("text", "hardBreak", "mention", "emoji", "inlineCard")
	listItems   = set("listItem")
	inListItem  = set("paragraph", "bulletList", "orderedList", "codeBlock")
	codeContent = set("text")
	markTypes   = set("strong", "em", "code", "link", "strike", "underline", "subsup", "textColor")
)

func set(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

type adfNode struct {
	Type    string                     `json:"type"`
	Content json.RawMessage            `json:"content"`
	Attrs   map[string]json.RawMessage `json:"attrs"`
	Text    *string                    `json:"text"`
	Marks   []struct {
		Type  string                     `json:"type"`
		Attrs map[string]json.RawMessage `json:"attrs"`
	} `json:"marks"`
}

func checkChildren(parent string, raw json.RawMessage, allowed map[string]bool, minItems int) error {
	if raw == nil {
		if minItems > 0 {
			return fmt.Errorf("%s needs content", parent)
		}
		return nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("%s content must be an array", parent)
	}
	if len(items) < minItems {
		return fmt.Errorf("%s needs at least %d child node(s)", parent, minItems)
	}
	for i, item := range items {
		if err := checkNode(item, allowed); err != nil {
			return fmt.Errorf("%s.content[%d]: %w", parent, i, err)
		}
	}
	return nil
}

func checkNode(raw json.RawMessage, allowed map[string]bool) error {
	var keys map[string]json.RawMessage
	if err := json.Unmarshal(raw, &keys); err != nil {
		return fmt.Errorf("a node must be an object")
	}
	for k := range keys {
		switch k {
		case "type", "content", "attrs", "text", "marks":
		default:
			return fmt.Errorf("unknown property %q", k)
		}
	}
	var n adfNode
	if err := json.Unmarshal(raw, &n); err != nil {
		return fmt.Errorf("malformed node: %w", err)
	}
	if !allowed[n.Type] {
		return fmt.Errorf("node type %q is not allowed here", n.Type)
	}
	if n.Type != "text" && (n.Text != nil || n.Marks != nil) {
		return fmt.Errorf("%s cannot have text or marks", n.Type)
	}
	switch n.Type {
	case "paragraph":
		return checkChildren(n.Type, n.Content, inlineNodes, 0)
	case "heading":
		var level int
		if err := json.Unmarshal(n.Attrs["level"], &level); err != nil || level < 1 || level > 6 {
			return fmt.Errorf("heading needs attrs.level between 1 and 6")
		}
		return checkChildren(n.Type, n.Content, inlineNodes, 0)
	case "bulletList", "orderedList":
		return checkChildren(n.Type, n.Content, listItems, 1)
	case "listItem":
		return checkChildren(n.Type, n.Content, inListItem, 1)
	case "codeBlock":
		if err := checkChildren(n.Type, n.Content, codeContent, 0); err != nil {
			return err
		}
		return noMarks(n.Content)
	case "blockquote", "panel":
		return checkChildren(n.Type, n.Content, set("paragraph", "bulletList", "orderedList", "codeBlock"), 1)
	case "text":
		if n.Text == nil || *n.Text == "" {
			return fmt.Errorf("text nodes need non-empty text")
		}
		if n.Content != nil {
			return fmt.Errorf("text nodes cannot have content")
		}
		for _, m := range n.Marks {
			if !markTypes[m.Type] {
				return fmt.Errorf("unknown mark %q", m.Type)
			}
		}
	case "hardBreak", "rule":
		if n.Content != nil {
			return fmt.Errorf("%s cannot have content", n.Type)
		}
	}
	return nil
}

// noMarks enforces that code blocks hold plain text.
func noMarks(raw json.RawMessage) error {
	if raw == nil {
		return nil
	}
	var items []adfNode
	if err := json.Unmarshal(raw, &items); err != nil {
		return fmt.Errorf("codeBlock content must be an array")
	}
	for _, it := range items {
		if len(it.Marks) > 0 {
			return fmt.Errorf("codeBlock text cannot have marks")
		}
	}
	return nil
}
