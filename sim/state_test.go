package sim

import (
	"slices"
	"testing"
	"time"
)

func TestMultiIndex(t *testing.T) {
	t.Parallel()
	m := newMultiIndex[int]()
	m.add("A", 1)
	m.add("a", 2)
	m.add("a", 2)
	m.add("a", 3)
	m.add("", 9)
	if got := m.get("a"); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("get %v", got)
	}
	m.remove("a", 1)
	if got := m.get("a"); !slices.Equal(got, []int{2, 3}) {
		t.Fatalf("after removing the first: %v", got)
	}
	m.remove("A", 3)
	m.remove("a", 7)
	if got := m.get("a"); !slices.Equal(got, []int{2}) {
		t.Fatalf("after removing the last: %v", got)
	}
	m.remove("a", 2)
	if got := m.get("a"); got != nil || len(m.one) != 0 || len(m.more) != 0 {
		t.Fatalf("after removing all: %v %v %v", got, m.one, m.more)
	}
}

func TestOrderedRemoveAndPage(t *testing.T) {
	t.Parallel()
	o := newOrdered[*membership]()
	for i := 1; i <= 10; i++ {
		o.add(&membership{objMeta{seq: int64(i), id: string(rune('a' + i))}})
	}
	o.remove(string(rune('a' + 3)))
	o.remove("nope")
	q := &listQuery{top: 4, after: 2}
	items, last, more := page(o.list, q, func(*membership) bool { return true })
	var seqs []int64
	for _, m := range items {
		seqs = append(seqs, m.seq)
	}
	if !slices.Equal(seqs, []int64{4, 5, 6, 7}) || last != 7 || !more {
		t.Fatalf("page %v last %d more %v", seqs, last, more)
	}
	q.after = last
	items, _, more = page(o.list, q, func(*membership) bool { return true })
	if len(items) != 3 || more {
		t.Fatalf("last page %d more %v", len(items), more)
	}
}

// The lookups foyer makes before inviting are answered from the indexes.
func TestUserCandidates(t *testing.T) {
	t.Parallel()
	tn := newTenant("t", "T", "t.onmicrosoft.com", time.Now())
	u := &user{objMeta: objMeta{seq: 1, id: "u1"}, UserPrincipalName: "a_b.example#EXT#@t.onmicrosoft.com", Mail: "A@b.example",
		OtherMails: []string{"a@b.example"}, ProxyAddresses: []string{"SMTP:a@b.example"}}
	tn.users.add(u)
	tn.indexUser(u)
	for _, f := range []string{
		"mail eq 'a@b.example'",
		"userPrincipalName eq 'a_b.example#EXT#@t.onmicrosoft.com' or mail eq 'a@b.example' or proxyAddresses/any(x:x eq 'SMTP:a@b.example') or otherMails/any(x:x eq 'a@b.example')",
		"mail in ('x@y.example', 'a@b.example') and userType eq 'Guest'",
		"id eq 'u1'",
	} {
		n, err := parseFilter(f)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := tn.userCandidates(n)
		if !ok || len(bySeq(got)) != 1 || got[0] != u {
			t.Errorf("%s: %v %v", f, got, ok)
		}
	}
	n, _ := parseFilter("startsWith(mail,'a')")
	if _, ok := tn.userCandidates(n); ok {
		t.Error("startsWith answered from an index")
	}
}
