package connectors

import (
	"context"
	"encoding/json"
)

// SystemInfoFile is the name the system information is attached under.
const SystemInfoFile = "systeminfo.json"

// FilesToAttach are the files a connector attaches to a ticket it
// created: the system information as JSON, then the user's attachments.
func FilesToAttach(t *Ticket) []Attachment {
	var files []Attachment
	if t.SystemInfo != nil {
		if b, err := json.MarshalIndent(t.SystemInfo, "", "  "); err == nil {
			files = append(files, Attachment{Filename: SystemInfoFile, ContentType: "application/json", SizeBytes: int64(len(b)), Data: b})
		}
	}
	return append(files, t.Attachments...)
}

// AttachEach uploads files to r one at a time, best effort, until ctx is
// done: the ticket exists, so a failed upload must not turn a delivered
// ticket into a failed one (and its error would hold file names).
func AttachEach(ctx context.Context, attach func(context.Context, Remote, Attachment) error, r Remote, files []Attachment) {
	for _, a := range files {
		if ctx.Err() != nil {
			return
		}
		_ = attach(ctx, r, a)
	}
}
