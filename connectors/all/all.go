// Package all registers every connector type that ships with Ticketray.
// It is the one place the registry is filled: import it for its side
// effect, as database/sql programs import their drivers.
package all

import (
	_ "github.com/ticketray/ticketray/connectors/bmchelix"     // "bmc_helix"
	_ "github.com/ticketray/ticketray/connectors/freshservice" // "freshservice"
	_ "github.com/ticketray/ticketray/connectors/jira"         // "jira"
	_ "github.com/ticketray/ticketray/connectors/jsm"          // "jsm"
	_ "github.com/ticketray/ticketray/connectors/salesforce"   // "salesforce"
	_ "github.com/ticketray/ticketray/connectors/servicenow"   // "servicenow"
	_ "github.com/ticketray/ticketray/connectors/zendesk"      // "zendesk"
)
