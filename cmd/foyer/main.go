// Command foyer lets people from outside an organisation into its Microsoft
// Entra tenant as B2B guests, and takes them out again. This file only wires
// signals and the exit code; the commands live in package cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/foyer-dev/foyer/cmd/foyer/cli"
)

func main() {
	os.Exit(run())
}

// run runs the command line until it ends or a signal stops it. The first
// SIGINT or SIGTERM cancels the command, which stops cleanly (an apply
// resumes where it stopped); a second one ends the process at once, as if
// foyer did not handle signals, which the ledger is made to survive.
func run() int {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	var got atomic.Value
	go func() {
		s, ok := <-sigs
		if !ok {
			return
		}
		got.Store(s)
		signal.Stop(sigs) // the next signal takes its default action
		cancel()
	}()
	code := cli.Run(ctx, cli.Env{
		Args:    os.Args[1:],
		Stdin:   os.Stdin,
		Stdout:  os.Stdout,
		Stderr:  os.Stderr,
		Getenv:  os.Getenv,
		Program: os.Args[0],
	})
	signal.Stop(sigs)
	if code == cli.ExitInterrupted && got.Load() == syscall.SIGTERM {
		code = 128 + int(syscall.SIGTERM) // 143, as a shell reports a process SIGTERM ended
	}
	return code
}
