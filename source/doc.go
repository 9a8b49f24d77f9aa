// Package source turns inputs into rows with verdicts: it opens a CSV file
// (a local path, standard input, an https URL such as a blob SAS URL, or a
// blob through the Blobs interface that source/blob implements), recognises
// its encoding, delimiter and header (the portal's bulk-invite template
// among them), and gives each record one foyer.Row with its verdict:
// invalid, duplicate, skip, or none for a candidate that the plan then
// finds in the directory or not.
//
// It streams: memory holds one record and a few bytes per distinct address.
// The engine imports it; it imports the root package only (and x/net,
// x/text), not the Azure SDK, which lives in source/blob.
package source
