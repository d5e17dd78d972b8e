package components

import (
	"bytes"
	"context"
	"reflect"
	"testing"
	"time"
	"unsafe"

	"beacon/app/models"
)

// TestHTMLCacheNeverAnswersWithAnotherState changes each field of a
// notification in turn, at the same position, and wants the cache to
// answer what NotificationJSON makes of the changed one: a field the
// fragment reads but the cache does not compare fails here, whenever it
// is added.
func TestHTMLCacheNeverAnswersWithAnotherState(t *testing.T) {
	ctx := context.Background()
	created := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	base := models.Notification{
		ID: 41, Position: 42, FirstPosition: 41, Title: "Deploy", Body: "v1.2 is live", Level: "success",
		CreatedAt: created, UpdatedAt: created,
	}
	// The same with every optional field set, so that a pointer's value
	// changes too, not only whether there is one.
	full := base
	url, key, uid := "https://ci.example.com/runs/7", "deploy", int64(3)
	full.URL, full.Key, full.RecipientID = &url, &key, &uid
	full.Recipient = &models.User{ID: uid, Email: "ops@example.com"}
	for _, base := range []models.Notification{base, full} {
		typ := reflect.TypeFor[models.Notification]()
		changed := 0
		for i := range typ.NumField() {
			f := typ.Field(i)
			n := base
			if !setOther(reflect.ValueOf(&n).Elem().Field(i)) {
				t.Fatalf("field %s: the test cannot change a %s", f.Name, f.Type)
			}
			before, err := NotificationJSON(ctx, base)
			if err != nil {
				t.Fatal(err)
			}
			want, err := NotificationJSON(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			c := NewHTMLCache(8)
			if got, err := c.NotificationJSON(ctx, base); err != nil || !bytes.Equal(got, before) {
				t.Fatalf("field %s: first answer %s, %v; want %s", f.Name, got, err, before)
			}
			got, err := c.NotificationJSON(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("with %s changed the cache answered\n%s\nwant\n%s", f.Name, got, want)
			}
			if !bytes.Equal(before, want) {
				changed++
			}
		}
		if changed < 10 {
			t.Fatalf("only %d fields changed the JSON: the test does not change them", changed)
		}
	}

	// The same state again is a lookup: the very string it kept.
	c := NewHTMLCache(8)
	first, _ := c.NotificationHTML(ctx, base)
	again := base
	again.CreatedAt = created.In(time.FixedZone("CET", 3600)) // the same instant, read back in another zone
	second, _ := c.NotificationHTML(ctx, again)
	if unsafe.StringData(first) != unsafe.StringData(second) {
		t.Error("the same state was rendered again, not remembered")
	}
}

// setOther sets v, a field of a notification, to a value other than the
// one it has, and reports whether it knew how.
func setOther(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.String:
		v.SetString(v.String() + " (changed)")
	case reflect.Int64:
		v.SetInt(v.Int() + 1000)
	case reflect.Bool:
		v.SetBool(!v.Bool())
	case reflect.Pointer:
		// A new pointer: to a changed copy of the value when there is one.
		p := reflect.New(v.Type().Elem())
		if !v.IsNil() {
			p.Elem().Set(v.Elem())
		}
		if !setOther(p.Elem()) {
			return false
		}
		v.Set(p)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 1, 1)
		if !setOther(s.Index(0)) {
			return false
		}
		v.Set(s)
	case reflect.Struct:
		if t, ok := v.Interface().(time.Time); ok {
			v.Set(reflect.ValueOf(t.Add(time.Hour)))
			return true
		}
		// Another struct (a user, an audience entry): change every
		// field it can.
		changed := false
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && setOther(v.Field(i)) {
				changed = true
			}
		}
		return changed
	default:
		return false
	}
	return true
}
