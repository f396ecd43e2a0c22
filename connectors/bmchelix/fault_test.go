package bmchelix_test

import "github.com/ticketray/ticketray/connectors/fake"

func faultRespond(code int, body string) fake.Fault {
	return fake.Fault{Kind: fake.Respond, Code: code, Body: body}
}
