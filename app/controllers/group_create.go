package controllers

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"beacon/app/models"
	"beacon/app/store"
	"beacon/views/pages"
)

// groupCreate creates a group from the form's name and open checkbox. It
// has no members yet, so no stream needs telling.
func (ctl *Controller) groupCreate(c echo.Context) error {
	name, open := strings.TrimSpace(c.FormValue("name")), c.FormValue("open") != ""
	refuse := func(msg string) error {
		return ctl.renderGroups(c, http.StatusUnprocessableEntity, pages.GroupsPage{Name: name, Open: open, Errors: map[string]string{"name": msg}})
	}
	if !models.ValidGroupName(name) {
		return refuse("Group names are " + models.GroupNameRule + ".")
	}
	_, err := ctl.Store.CreateGroup(c.Request().Context(), name, open)
	if errors.Is(err, store.ErrGroupTaken) {
		return refuse("There is a group called " + name + " already.")
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/groups")
}
