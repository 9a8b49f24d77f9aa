package source_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/foyer-dev/foyer"
	"github.com/foyer-dev/foyer/source"
)

// Read gives every record one row with its verdict. Rows without an
// Action are candidates: the plan looks them up in the directory.
func ExampleRead() {
	csv := "username,email\r\n" +
		"Matt External,demo.email.matt@gmail.com\r\n" +
		"Mark Smtih, mark.smith@contoso.example\r\n" +
		"Matt again,Demo.Email.Matt@GMAIL.com\r\n" +
		"Nobody,nobody(x)@fabrikam.example\r\n"
	opts := source.Options{VerifiedDomains: []string{"contoso.example"}}
	st, err := source.Read(context.Background(), strings.NewReader(csv), opts, func(r foyer.Row) error {
		verdict := string(r.Action)
		if verdict == "" {
			verdict = "candidate"
		}
		fmt.Printf("line %d: %s %s\n", r.Line, verdict, strings.TrimSpace(string(r.Email)+" "+r.Reason))
		return nil
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%d rows, %d candidates, delimiter %q, %s\n", st.Rows, st.Candidates, st.Delimiter, st.Encoding)
	// Output:
	// line 2: candidate demo.email.matt@gmail.com
	// line 3: skip mark.smith@contoso.example contoso.example is a verified domain of the tenant
	// line 4: duplicate Demo.Email.Matt@gmail.com duplicate of line 2
	// line 5: invalid address "nobody(x)@fabrikam.example": character '(' is not allowed in an invited address
	// 4 rows, 1 candidates, delimiter ",", utf-8
}

// The portal's bulk-invite template is read by the property names in its
// headers; its version line is not a row and its example row is skipped.
func ExampleRead_portalTemplate() {
	csv := "version:v1.0,,,\r\n" +
		"Email address to invite [inviteeEmail] Required,Redirection url [inviteRedirectURL] Required,Send invitation message (true or false) [sendEmail],Customized invitation message [customizedMessageBody]\r\n" +
		"example@example.com,https://myapplications.microsoft.com,TRUE,Hello\r\n" +
		"ana.lima@fabrikam.example,https://myapps.microsoft.com,FALSE,Welcome\r\n"
	st, _ := source.Read(context.Background(), strings.NewReader(csv), source.Options{}, func(r foyer.Row) error {
		fmt.Printf("line %d: %q %s send=%s message=%q reason:%s\n", r.Line, r.Action, r.Email, r.SendEmail, r.Message, r.Reason)
		return nil
	})
	fmt.Println("template", st.Template, "header on line", st.HeaderLine)
	// Output:
	// line 3: "skip" example@example.com send=true message="Hello" reason:the portal template's example row (remove it from the file)
	// line 4: "" ana.lima@fabrikam.example send=false message="Welcome" reason:
	// template v1.0 header on line 2
}

// A file with no column foyer recognises as the email address is refused
// before any row, with the columns it found.
func ExampleRead_fileError() {
	_, err := source.Read(context.Background(), strings.NewReader("name;company\nAna;Fabrikam\n"), source.Options{}, func(foyer.Row) error { return nil })
	fmt.Println(foyer.ErrorCode(err))
	fmt.Println(foyer.ErrorMessage(err))
	// Output:
	// invalid
	// no column holds email addresses; columns found on line 1: "name", "company"; foyer reads a column named email, e-mail, mail, email address, invitedUserEmailAddress or the template's [inviteeEmail] (or their German, French, Spanish, Portuguese, Dutch or Italian names); or choose the column that holds them
}

func ExampleNormalizeAddress() {
	for _, cell := range []string{"\u00a0Ana Lima <Ana.Lima@Bücher.Example>", "mailto:bram@northwind.example", "wei@tailspin.example; kim@wingtip.example"} {
		addr, name, reason := source.NormalizeAddress(cell)
		fmt.Printf("%q %q %q\n", addr, name, reason)
	}
	// Output:
	// "Ana.Lima@xn--bcher-kva.example" "Ana Lima" ""
	// "bram@northwind.example" "" ""
	// "" "" "the cell holds 2 addresses: put one address per row"
}

// Open reaches a file, standard input, an https URL or a blob; the Input's
// Name is safe to show and store, and its digest is known once read.
func ExampleOpen() {
	ctx := context.Background()
	in, err := source.Open(ctx, "-", source.OpenOptions{Stdin: strings.NewReader("email\nana.lima@fabrikam.example\n")})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer in.Close()
	st, err := source.Read(ctx, in, source.Options{}, func(foyer.Row) error { return nil })
	if err != nil {
		fmt.Println(err)
		return
	}
	digest, _ := in.Digest()
	fmt.Println(in.Name, st.Rows, digest[:12])

	_, err = source.Open(ctx, "http://acct.blob.core.windows.net/guests/new.csv?sv=2022-11-02&sig=SECRET", source.OpenOptions{})
	fmt.Println(err)
	// Output:
	// stdin 1 b0d8bbfbeda6
	// invalid: http://acct.blob.core.windows.net/guests/new.csv: plain http is refused, because the URL (and any SAS token in it) would travel unencrypted; use https
}
