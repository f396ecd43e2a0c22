package bmchelix

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// maxMessage bounds the vendor message kept with a failed delivery.
const maxMessage = 1000

// arStatus is one entry of the AR System REST API's error body, a JSON
// array such as
//
//	[{"messageType":"ERROR","messageText":"Authentication failed",
//	  "messageAppendedText":"svc","messageNumber":623}]
type arStatus struct {
	MessageType         string `json:"messageType"`
	MessageText         string `json:"messageText"`
	MessageAppendedText string `json:"messageAppendedText"`
	MessageNumber       int    `json:"messageNumber"`
}

// vendorMessage renders an AR error body as the AR System itself shows
// errors: "ERROR (302): Entry does not exist in database; <appended>",
// several joined with " | ". Any other body (an HTML page from a proxy or
// a load balancer) gives "".
func vendorMessage(_ int, body []byte) string {
	var list []arStatus
	if json.Unmarshal(body, &list) != nil {
		var one arStatus // some gateways answer with a single object
		if json.Unmarshal(body, &one) != nil || one.MessageText == "" {
			return ""
		}
		list = []arStatus{one}
	}
	var parts []string
	for _, s := range list {
		text := strings.TrimSpace(s.MessageText)
		if text == "" {
			continue
		}
		typ := strings.TrimSpace(s.MessageType)
		if typ == "" {
			typ = "ERROR"
		}
		m := fmt.Sprintf("%s (%d): %s", typ, s.MessageNumber, text)
		if a := strings.TrimSpace(s.MessageAppendedText); a != "" {
			m += "; " + a
		}
		parts = append(parts, m)
	}
	return truncateBytes(strings.Join(parts, " | "), maxMessage)
}

func truncateBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
