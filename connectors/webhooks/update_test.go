package webhooks_test

import (
	"testing"

	"github.com/ticketray/ticketray/connectors/webhooks"
)

func TestEventUpdate(t *testing.T) {
	sn, err := webhooks.Parse(webhooks.KindServiceNow, readFixture(t, "servicenow/business-rule.json"))
	if err != nil {
		t.Fatal(err)
	}
	u := sn.Update()
	if u.ID != sn.RemoteID || u.Number != "INC0010023" || u.Status != "3" || u.Category != "1" ||
		u.Assignee != "Beth Anglin" || !u.UpdatedAt.Equal(sn.UpdatedAt) || len(u.Comments) != 1 || u.Comments[0].Author != "Beth Anglin" {
		t.Errorf("ServiceNow update = %+v", u)
	}
	jira, err := webhooks.Parse(webhooks.KindJira, readFixture(t, "jira/webhook-cloud-comment-deleted.json"))
	if err != nil {
		t.Fatal(err)
	}
	if u := jira.Update(); u.Number != "KT-7" || u.Category != "new" || len(u.Comments) != 0 {
		t.Errorf("a deleted comment's update = %+v, want no comments", u)
	}
}
