package snfake

// The tables the fake serves. Field names and defaults follow the Table API
// samples (specs/servicenow/samples/table-*.json): every value is a string,
// reference fields hold a sys_id and are rendered as {"link","value"}.

// incidentDefaults are the fields of a new incident and their defaults, as
// the POST sample returns them. Fields outside this set are unknown: a
// write ignores them and a query condition on them is dropped, as
// ServiceNow does by default.
var incidentDefaults = map[string]string{
	"active":                   "true",
	"activity_due":             "",
	"additional_assignee_list": "",
	"approval":                 "not requested",
	"approval_history":         "",
	"approval_set":             "",
	"assigned_to":              "",
	"assignment_group":         "",
	"business_duration":        "",
	"business_service":         "",
	"business_stc":             "",
	"calendar_duration":        "",
	"calendar_stc":             "",
	"caller_id":                "",
	"category":                 "inquiry",
	"caused_by":                "",
	"child_incidents":          "0",
	"close_code":               "",
	"close_notes":              "",
	"closed_at":                "",
	"closed_by":                "",
	"cmdb_ci":                  "",
	"comments":                 "",
	"comments_and_work_notes":  "",
	"company":                  "",
	"contact_type":             "",
	"correlation_display":      "",
	"correlation_id":           "",
	"delivery_plan":            "",
	"delivery_task":            "",
	"description":              "",
	"due_date":                 "",
	"escalation":               "0",
	"expected_start":           "",
	"follow_up":                "",
	"group_list":               "",
	"hold_reason":              "", // not in the sample (an older release): On Hold came with Helsinki's state model
	"impact":                   "3",
	"incident_state":           "1",
	"knowledge":                "false",
	"location":                 "",
	"made_sla":                 "true",
	"notify":                   "1",
	"number":                   "",
	"opened_at":                "",
	"opened_by":                "",
	"order":                    "",
	"parent":                   "",
	"parent_incident":          "",
	"priority":                 "5",
	"problem_id":               "",
	"reassignment_count":       "0",
	"rejection_goto":           "",
	"reopen_count":             "0",
	"resolved_at":              "",
	"resolved_by":              "",
	"rfc":                      "",
	"severity":                 "3",
	"short_description":        "",
	"sla_due":                  "",
	"state":                    "1",
	"subcategory":              "",
	"sys_class_name":           "incident",
	"sys_created_by":           "",
	"sys_created_on":           "",
	"sys_domain":               "global",
	"sys_domain_path":          "/",
	"sys_id":                   "",
	"sys_mod_count":            "0",
	"sys_tags":                 "",
	"sys_updated_by":           "",
	"sys_updated_on":           "",
	"time_worked":              "",
	"upon_approval":            "proceed",
	"upon_reject":              "cancel",
	"urgency":                  "3",
	"user_input":               "",
	"watch_list":               "",
	"wf_activity":              "",
	"work_end":                 "",
	"work_notes":               "",
	"work_notes_list":          "",
	"work_start":               "",
}

// incidentRefs maps each reference field to the table it points at (the
// table in the rendered link).
var incidentRefs = map[string]string{
	"assigned_to":      "sys_user",
	"assignment_group": "sys_user_group",
	"business_service": "cmdb_ci_service",
	"caller_id":        "sys_user",
	"caused_by":        "change_request",
	"closed_by":        "sys_user",
	"cmdb_ci":          "cmdb_ci",
	"company":          "core_company",
	"location":         "cmn_location",
	"opened_by":        "sys_user",
	"parent":           "task",
	"parent_incident":  "incident",
	"problem_id":       "problem",
	"resolved_by":      "sys_user",
	"rfc":              "change_request",
	"sys_domain":       "sys_user_group", // as in the samples
}

// journalFields are write-only through the Table API: a write appends a
// sys_journal_field row and a read returns "".
var journalFields = map[string]bool{"work_notes": true, "comments": true}

// journalDefaults are the fields of sys_journal_field, where the instance
// keeps each comment and work note: name is the table, element_id the
// record's sys_id, element the journal field, sys_created_by a user_name.
var journalDefaults = map[string]string{
	"element":        "",
	"element_id":     "",
	"name":           "",
	"sys_created_by": "",
	"sys_created_on": "",
	"sys_id":         "",
	"sys_tags":       "",
	"value":          "",
}

// choices are the labels of choice fields, the display values of
// sysparm_display_value (base system, English). A code without a label
// displays as itself.
var choices = map[string]map[string]string{
	"state":          incidentStates,
	"incident_state": incidentStates,
	"hold_reason":    {"1": "Awaiting Caller"},
	"urgency":        {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"},
	"impact":         {"1": "1 - High", "2": "2 - Medium", "3": "3 - Low"},
	"priority":       {"1": "1 - Critical", "2": "2 - High", "3": "3 - Moderate", "4": "4 - Low", "5": "5 - Planning"},
}

var incidentStates = map[string]string{"1": "New", "2": "In Progress", "3": "On Hold", "6": "Resolved", "7": "Closed", "8": "Canceled"}

// displayFields name the field a reference to each table displays.
var displayFields = map[string]string{"sys_user": "name", "sys_user_group": "name", "incident": "number"}

var userDefaults = map[string]string{
	"active":         "true",
	"email":          "",
	"first_name":     "",
	"last_name":      "",
	"name":           "",
	"sys_class_name": "sys_user",
	"sys_created_by": "admin",
	"sys_created_on": "",
	"sys_id":         "",
	"sys_mod_count":  "0",
	"sys_updated_by": "admin",
	"sys_updated_on": "",
	"user_name":      "",
}

var groupDefaults = map[string]string{
	"active":         "true",
	"description":    "",
	"email":          "",
	"manager":        "",
	"name":           "",
	"sys_created_by": "admin",
	"sys_created_on": "",
	"sys_id":         "",
	"sys_mod_count":  "0",
	"sys_updated_by": "admin",
	"sys_updated_on": "",
}

var groupRefs = map[string]string{"manager": "sys_user"}

// priorityMatrix is ServiceNow's default priority lookup (Priority Data
// Lookup rules): priority from urgency and impact, 1 = highest.
var priorityMatrix = map[[2]string]string{
	{"1", "1"}: "1", {"1", "2"}: "2", {"2", "1"}: "2",
	{"1", "3"}: "3", {"2", "2"}: "3", {"3", "1"}: "3",
	{"2", "3"}: "4", {"3", "2"}: "4",
	{"3", "3"}: "5",
}

// Priority returns the incident priority ServiceNow's default lookup
// computes from urgency and impact ("" for values outside 1..3).
func Priority(urgency, impact string) string {
	return priorityMatrix[[2]string{urgency, impact}]
}
