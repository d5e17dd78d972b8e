// Package assets embeds the stylesheets, scripts and icons the pages load,
// and names each by its content, so that browsers may cache it for good.
package assets

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"sync"
)

//go:embed *.css *.js *.svg
var files embed.FS

// Asset is one embedded file.
type Asset struct {
	Name string
	Body []byte
	Hash string // hex SHA-256 prefix of Body: its version
}

// index is computed once from the embedded files; it never changes after.
var index = sync.OnceValue(func() map[string]Asset {
	out := map[string]Asset{}
	entries, _ := fs.ReadDir(files, ".")
	for _, e := range entries {
		body, err := files.ReadFile(e.Name())
		if err != nil {
			continue
		}
		sum := sha256.Sum256(body)
		out[e.Name()] = Asset{Name: e.Name(), Body: body, Hash: hex.EncodeToString(sum[:6])}
	}
	return out
})

// Lookup returns the asset called name.
func Lookup(name string) (Asset, bool) {
	a, ok := index()[name]
	return a, ok
}

// Path is the URL of the asset called name, with its version, so a page
// always loads the bytes it was rendered with. An unknown name still gets
// a path, which answers 404: a typo shows in the browser's console.
func Path(name string) string {
	if a, ok := Lookup(name); ok {
		return "/assets/" + name + "?v=" + a.Hash
	}
	return "/assets/" + name
}
