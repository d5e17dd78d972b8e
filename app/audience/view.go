package audience

import (
	"slices"
	"strconv"

	"beacon/app/models"
)

// What a viewer is told of an audience: a user never learns who else a
// notification is for, and hears a group's name only as its member.
// Admins are told the whole audience.

// ShownTo is n as viewer v is shown it. One addressed to a list names v
// as its recipient if the list names v, and the groups on the list v is
// in (Groups); n's Addressees (with their users and groups) must be
// loaded. Any other notification is the same for every viewer and is
// returned as it is, so that it is rendered once for all.
func ShownTo(n models.Notification, v Viewer) models.Notification {
	if n.AudienceID == nil {
		return n
	}
	shown := n
	shown.Recipient, shown.Groups, shown.Addressees = nil, nil, nil
	for _, m := range n.Addressees {
		switch {
		case m.UserID != nil && *m.UserID == v.UserID && m.User != nil:
			shown.Recipient = m.User
		case m.GroupID != nil && m.Group != nil && inSorted(v.Groups, *m.GroupID):
			shown.Groups = append(shown.Groups, m.Group.Name)
		}
	}
	slices.Sort(shown.Groups)
	return shown
}

// ShownToAdmin is n with To, its audience in full: the emails and
// group:NAME entries of a list, or its one recipient's email.
func ShownToAdmin(n models.Notification) models.Notification {
	switch {
	case n.AudienceID != nil:
		to := make([]string, 0, len(n.Addressees))
		for _, m := range n.Addressees {
			switch {
			case m.User != nil:
				to = append(to, m.User.Email)
			case m.Group != nil:
				to = append(to, models.AudienceGroupPrefix+m.Group.Name)
			}
		}
		slices.Sort(to)
		n.To = to
	case n.Recipient != nil:
		n.To = []string{n.Recipient.Email}
	default:
		n.To = []string{}
	}
	return n
}

func inSorted(ids []int64, id int64) bool {
	_, ok := slices.BinarySearch(ids, id)
	return ok
}

// ViewKey tells apart what viewers who see a notification are shown of its
// audience (ShownTo): the viewer when it names them (each is shown their
// own email), and the groups of it they are in. Viewers with equal keys
// are shown the same, so a hub renders one view per key; it is
// comparable, and for up to four groups built without allocating, since
// the hub asks for it once per stream.
type ViewKey struct {
	Named  int64    // the viewer's user id when the audience names them, else 0
	Groups [4]int64 // the first four groups of the audience the viewer is in, ascending
	More   string   // the rest, when there are more
}

// ViewKey is v's key for this audience, which v must see. Any viewer of a
// notification not addressed to a list has the zero key.
func (a Audience) ViewKey(v Viewer) ViewKey {
	k, _ := a.View(v)
	return k
}

// View is Sees and ViewKey in one look, for the hub's loop over streams.
func (a Audience) View(v Viewer) (ViewKey, bool) {
	var k ViewKey
	if a.list == nil {
		return k, a.Sees(v)
	}
	if v.UserID == 0 {
		return k, false
	}
	if _, named := a.list.users[v.UserID]; named {
		k.Named = v.UserID
	}
	n := 0
	for _, g := range v.Groups { // ascending
		if _, ok := a.list.groups[g]; !ok {
			continue
		}
		if n < len(k.Groups) {
			k.Groups[n] = g
		} else {
			k.More += "," + strconv.FormatInt(g, 10)
		}
		n++
	}
	return k, k.Named != 0 || n > 0
}
