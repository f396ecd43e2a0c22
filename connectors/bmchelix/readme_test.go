package bmchelix_test

import (
	"testing"

	"github.com/ticketray/ticketray/connectors/conformance"
)

func TestREADMEExample(t *testing.T) {
	conformance.READMEExample(t, "#### BMC Helix ITSM", "bmc_helix")
}
