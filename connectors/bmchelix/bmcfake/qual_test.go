package bmcfake

import (
	"slices"
	"strconv"
	"testing"
	"time"
)

func TestQualification(t *testing.T) {
	rows := []map[string]any{
		{"Incident Number": "INC1", "Status": "New", "Last Modified Date": "2026-03-02T09:00:00.000+0000"},
		{"Incident Number": "INC2", "Status": "Pending", "Last Modified Date": "2026-03-02T10:00:00.000+0000"},
		{"Incident Number": "INC3", "Status": "New", "Last Modified Date": "2026-03-02T11:00:00.000+0000"},
	}
	ten := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC).Unix()
	for _, tt := range []struct {
		q    string
		want []string
	}{
		{``, []string{"INC1", "INC2", "INC3"}},
		{`'Status' = "New"`, []string{"INC1", "INC3"}},
		{`'Status' != "New"`, []string{"INC2"}},
		{`('Incident Number' = "INC1" OR 'Incident Number' = "INC2") AND 'Status' = "New"`, []string{"INC1"}},
		{`'Incident Number' = "INC1" OR 'Incident Number' = "INC2" AND 'Status' = "New"`, []string{"INC1"}}, // AND binds tighter
		{`('Incident Number' = "INC2" OR 'Incident Number' = "INC3") AND 'Last Modified Date' >= ` + strconv.FormatInt(ten, 10), []string{"INC2", "INC3"}},
		{`'Last Modified Date' > ` + strconv.FormatInt(ten, 10), []string{"INC3"}},
		{`'Last Modified Date' < ` + strconv.FormatInt(ten, 10), []string{"INC1"}},
		{`'Last Modified Date' <= ` + strconv.FormatInt(ten, 10), []string{"INC1", "INC2"}},
		{`(('Status' = "Pending"))`, []string{"INC2"}},
	} {
		q, err := parseQual(tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.q, err)
			continue
		}
		var got []string
		for _, r := range rows {
			if q.match(r) {
				got = append(got, r["Incident Number"].(string))
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: %v, want %v", tt.q, got, tt.want)
		}
	}
	for _, bad := range []string{
		`'Status' = New`, `'Status' LIKE "N%"`, `('Status' = "New"`, `'Status' = "New" XOR 'Status' = "x"`,
		`'Last Modified Date' >= "03/02/2026 10:00:00"`, // locale-dependent strings are not modelled
		`'Status' > 5`, `'Status' = "New")`,
	} {
		if _, err := parseQual(bad); err == nil {
			t.Errorf("%s: parsed", bad)
		}
	}
}
