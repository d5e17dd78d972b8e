package controllers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// maxAPIBody is how many bytes of JSON one API call may send.
const maxAPIBody = 64 << 10

// bindJSONObject decodes the request's body into v, which must be exactly
// one JSON object sent as application/json (parameters such as charset
// allowed) and at most limit bytes. Anything else is an HTTP error for
// HandleError to answer: 415 for another Content-Type, 413 for a body too
// large, 400 for a body that is not one object of v's fields.
func bindJSONObject(c echo.Context, v any, limit int64) error {
	return decodeJSONObject(c, v, limit, true)
}

// bindBrowserJSON is bindJSONObject for what a browser's API hands a page's
// script, whose members browsers may add to: unknown ones are ignored.
func bindBrowserJSON(c echo.Context, v any, limit int64) error {
	return decodeJSONObject(c, v, limit, false)
}

// decodeJSONObject is bindJSONObject; strict refuses unknown members.
func decodeJSONObject(c echo.Context, v any, limit int64, strict bool) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType, "The body must be sent as Content-Type: application/json.")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, limit+1))
	if err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The body could not be read.").SetInternal(err)
	}
	if int64(len(body)) > limit {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("The body may be at most %d bytes.", limit))
	}
	// JSON is UTF-8 (RFC 8259); encoding/json would store invalid bytes as
	// U+FFFD without a word, past the fields' own text checks.
	if !utf8.Valid(body) {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must be UTF-8 text.")
	}
	// Decoding null or nothing into a struct is no error for encoding/json:
	// an object must open the body.
	if trimmed := bytes.TrimSpace(body); len(trimmed) == 0 || trimmed[0] != '{' {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must be one JSON object.")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must be one JSON object of the documented fields: "+err.Error())
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return echo.NewHTTPError(http.StatusBadRequest, "The body must be exactly one JSON object, with nothing after it.")
	}
	return nil
}
