//go:build !unix

package cli

import "io/fs"

// checkPrivate cannot tell here: Windows guards a directory with an ACL,
// which the mode bits do not show. The files are still written without
// following links.
func checkPrivate(fs.FileInfo) error { return nil }
