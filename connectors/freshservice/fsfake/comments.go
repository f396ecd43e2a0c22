package fsfake

import "html"

// Comments returns the text of ticket id's conversations (notes and
// replies, oldest first) as body_text shows it.
func (f *Fake) Comments(id int64) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.find(id)
	if t == nil {
		return nil
	}
	out := make([]string, len(t.Notes))
	for i, n := range t.Notes {
		out[i] = html.UnescapeString(stripTags(n.Body))
	}
	return out
}

// Files counts the files attached to ticket id's conversations.
func (f *Fake) Files(id int64) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	t := f.find(id)
	if t == nil {
		return 0
	}
	n := 0
	for _, c := range t.Notes {
		n += len(c.Attachments)
	}
	return n
}
