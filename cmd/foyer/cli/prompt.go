package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
)

// asker asks yes-or-no questions on the terminal: the question on stderr,
// the answer from the terminal.
type asker struct {
	in  io.Reader
	tty io.Closer // the controlling terminal, when asker opened it
	out io.Writer
}

// newAsker finds where an answer can come from, before anything is done:
// standard input when it is a terminal, or the controlling terminal when
// standard input carries the guest list (an answer is never read from the
// list). With no terminal it returns a usage error naming --yes. flag is
// what --yes is for ("apply", "revoke").
func newAsker(env *Env, stdinIsData bool, verb string) (*asker, error) {
	if stdinIsData {
		tty, err := env.OpenTerminal()
		if err != nil {
			return nil, usageError("the guest list comes on standard input and there is no terminal to ask on: pass --yes to %s without being asked, or give the file by its path", verb)
		}
		return &asker{in: tty, tty: tty, out: env.Stderr}, nil
	}
	if !env.isTerminal(env.Stdin) {
		return nil, usageError("not on a terminal, so nobody can be asked: pass --yes to %s without being asked", verb)
	}
	return &asker{in: env.Stdin, out: env.Stderr}, nil
}

// ask asks question and reports whether the answer was "yes". The end of
// the input, or any other answer, is no. ctx ends the wait.
func (a *asker) ask(ctx context.Context, question string) (bool, error) {
	fmt.Fprintf(a.out, "%s Only 'yes' goes ahead: ", question)
	line := make(chan string, 1)
	go func() {
		s, _ := bufio.NewReader(a.in).ReadString('\n')
		line <- s
	}()
	select {
	case <-ctx.Done():
		fmt.Fprintln(a.out)
		return false, ctx.Err()
	case s := <-line:
		if !strings.HasSuffix(s, "\n") {
			fmt.Fprintln(a.out)
		}
		return strings.EqualFold(strings.TrimSpace(s), "yes"), nil
	}
}

func (a *asker) close() {
	if a != nil && a.tty != nil {
		a.tty.Close()
	}
}
