// Package assets embeds the stylesheets and scripts the pages load.
package assets

import "embed"

// Files holds every asset, served under /assets/.
//
//go:embed *.css *.js
var Files embed.FS
