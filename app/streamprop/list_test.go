package streamprop

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"

	"beacon/app/apptest"
)

// listPage is how many notifications one list call asks for (the API's most).
const listPage = 500

// listAll loads, as web's user (or a visitor), every notification the list
// API has from position 0, paging by last_id, and returns the live ones in
// their latest state and the position the list ends at. An item withdrawn
// while it pages comes as {"withdrawn":true} and is dropped.
func listAll(ctx context.Context, web *apptest.Client, base string) (map[int64]card, int64, error) {
	items := map[int64]card{}
	var after int64
	for {
		page, err := listPageAfter(ctx, web, base, after)
		if err != nil {
			return nil, 0, err
		}
		for _, n := range page.Notifications {
			if n.Withdrawn {
				delete(items, n.ID)
			} else {
				items[n.ID] = card{Title: n.Title, Body: n.Body, Level: n.Level, Position: n.Position, Read: n.Read}
			}
		}
		if len(page.Notifications) < listPage {
			return items, page.LastID, nil
		}
		if page.LastID <= after {
			return nil, 0, fmt.Errorf("list after %d: a full page, and last_id %d does not move on", after, page.LastID)
		}
		after = page.LastID
	}
}

// listAnswer is GET /api/notifications's answer.
type listAnswer struct {
	Notifications []struct {
		ID        int64  `json:"id"`
		Title     string `json:"title"`
		Body      string `json:"body"`
		Level     string `json:"level"`
		Position  int64  `json:"position"`
		Withdrawn bool   `json:"withdrawn"`
		Read      bool   `json:"read"`
	} `json:"notifications"`
	LastID int64 `json:"last_id"`
}

func listPageAfter(ctx context.Context, web *apptest.Client, base string, after int64) (listAnswer, error) {
	var page listAnswer
	url := base + "/api/notifications?after=" + strconv.FormatInt(after, 10) + "&limit=" + strconv.Itoa(listPage)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return page, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := web.Do(req)
	if err != nil {
		return page, unreachable{err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		// An answer cut off: its instance is shutting down (a restart).
		return page, unreachable{fmt.Errorf("GET %s: %w", url, err)}
	}
	if resp.StatusCode != http.StatusOK {
		return page, fmt.Errorf("GET %s: %d %s", url, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return page, fmt.Errorf("GET %s: %v in %.200s", url, err, body)
	}
	return page, nil
}
