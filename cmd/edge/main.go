// Command edge is a local emulator of the mutual-TLS front door of an AWS
// Application Load Balancer. See README.md.

// ALB accepts client certificates with negative serial numbers (its docs
// only say such certificates cannot be revoked); Go 1.23+ refuses to parse
// them unless told otherwise.
//
//go:debug x509negativeserial=1
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes, as README.md states them.
const (
	exitOK    = 0
	exitFail  = 1 // invalid input, a failed verification or run
	exitUsage = 2 // a command line edge does not understand
)

// command is one edge command, as cmd/go keeps them: a table entry that
// declares its flags and runs. Subcommands (edge pki init) are commands of
// their own under subs.
type command struct {
	// name is the path after "edge": "serve", "pki init"; "" for bare
	// edge (the quick start).
	name string
	// args is the synopsis after the name: "-c FILE".
	args string
	// short is the one line of the command list.
	short string
	// long says what the command does, in full sentences.
	long string
	// examples are command lines, each optionally followed by "  # why".
	examples []string
	// flags declares the command's flags on fs and returns the function
	// that runs the command once they are parsed. A nil flags means the
	// command only dispatches to subs.
	flags func(fs *flag.FlagSet, io *cmdIO) runFunc
	subs  []*command
}

// runFunc runs a command with the arguments left after its flags.
type runFunc func(ctx context.Context, args []string) error

// cmdIO is where a command writes.
type cmdIO struct{ stdout, stderr io.Writer }

// root is the command table.
var root *command

func init() {
	root = quickstartCmd
	root.subs = []*command{serveCmd, checkCmd, verifyCmd, pkiCmd, demoCmd, benchCmd, exportCmd, versionCmd, helpCmd}
}

// helpCmd prints the usage of a command.
var helpCmd = &command{
	name:     "help",
	args:     "[COMMAND [SUBCOMMAND]]",
	short:    "the usage of edge or of one command",
	long:     "Prints the usage of a command, as COMMAND -h does.",
	examples: []string{"edge help serve", "edge help pki client"},
}

// run is main without the process: it finds the command, parses its
// flags, runs it and returns the exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cio := &cmdIO{stdout: stdout, stderr: stderr}
	c := root
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") && len(c.subs) > 0 {
		sub := c.find(args[0])
		if sub == nil {
			fmt.Fprintf(stderr, "edge: unknown command %q\n", strings.TrimSpace(c.name+" "+args[0]))
			c.shortUsage(stderr)
			return exitUsage
		}
		c, args = sub, args[1:]
	}
	if c == helpCmd {
		return help(args, stdout, stderr)
	}
	if c.flags == nil { // edge pki: a group without a subcommand
		if len(args) > 0 && isHelpFlag(args[0]) {
			c.usage(stdout)
			return exitOK
		}
		fmt.Fprintf(stderr, "edge %s: which command?\n", c.name)
		c.shortUsage(stderr)
		return exitUsage
	}
	fs := flag.NewFlagSet(c.path(), flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {} // run prints the usage itself
	runner := c.flags(fs, cio)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			c.usage(stdout)
			return exitOK
		}
		c.shortUsage(stderr)
		return exitUsage
	}
	for _, a := range fs.Args() {
		// The flag package stops at the first argument: a flag after it
		// would be taken as an argument (a CA named "--force").
		if len(a) > 1 && a[0] == '-' {
			fmt.Fprintf(stderr, "%s: %s comes after an argument: flags go before the arguments (%s)\n", c.path(), a, c.synopsis())
			c.shortUsage(stderr)
			return exitUsage
		}
	}
	err := runner(ctx, fs.Args())
	var ue usageError
	var ec exitCode
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "%s: %v\n", c.path(), err)
		c.shortUsage(stderr)
		return exitUsage
	case errors.As(err, &ec):
		return int(ec)
	}
	fmt.Fprintf(stderr, "%s: %v\n", c.path(), err)
	return exitFail
}

func help(args []string, stdout, stderr io.Writer) int {
	c := root
	for _, a := range args {
		sub := c.find(a)
		if sub == nil {
			fmt.Fprintf(stderr, "edge help: unknown command %q\n", strings.TrimSpace(c.name+" "+a))
			helpCmd.shortUsage(stderr)
			return exitUsage
		}
		c = sub
	}
	c.usage(stdout)
	return exitOK
}

func isHelpFlag(s string) bool { return s == "-h" || s == "--help" || s == "-help" }

func (c *command) find(name string) *command {
	for _, s := range c.subs {
		if s.name == strings.TrimSpace(c.name+" "+name) {
			return s
		}
	}
	return nil
}

func (c *command) path() string { return strings.TrimSpace("edge " + c.name) }

func (c *command) synopsis() string { return strings.TrimSpace(c.path() + " " + c.args) }

// usage prints the full usage: synopsis, description, commands, flags and
// examples.
func (c *command) usage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\n\n%s\n", c.synopsis(), strings.TrimSpace(c.long))
	if len(c.subs) > 0 {
		fmt.Fprintf(w, "\nCommands:\n")
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, s := range c.subs {
			fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimPrefix(s.name, c.name+" "), s.short)
		}
		tw.Flush()
	}
	if c.flags != nil {
		fs := flag.NewFlagSet(c.path(), flag.ContinueOnError)
		c.flags(fs, &cmdIO{stdout: io.Discard, stderr: io.Discard})
		n := 0
		fs.VisitAll(func(*flag.Flag) { n++ })
		if n > 0 {
			fmt.Fprintf(w, "\nFlags (-flag and --flag are the same):\n")
			fs.SetOutput(w)
			fs.PrintDefaults()
		}
	}
	if len(c.examples) > 0 {
		fmt.Fprintf(w, "\nExamples:\n")
		for _, e := range c.examples {
			fmt.Fprintf(w, "  %s\n", e)
		}
	}
	if len(c.subs) > 0 {
		fmt.Fprintf(w, "\nRun '%s COMMAND -h' for the usage of a command.\n", c.path())
	}
}

// shortUsage is what a usage error prints after the error.
func (c *command) shortUsage(w io.Writer) {
	fmt.Fprintf(w, "usage: %s\nRun '%s -h' for details.\n", c.synopsis(), c.path())
}

// usageError is a command line edge does not understand: exit 2.
type usageError string

func (e usageError) Error() string { return string(e) }

func usagef(format string, args ...any) error { return usageError(fmt.Sprintf(format, args...)) }

// exitCode ends a command with a code after it printed its own messages.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit %d", int(e)) }

// errReported is exit 1 after the command printed why.
var errReported error = exitCode(exitFail)

// noArgs is the usage error for arguments a command does not take.
func noArgs(args []string) error {
	if len(args) > 0 {
		return usagef("unexpected arguments %q", args)
	}
	return nil
}

// fromCode turns an exit code into runFunc's error.
func fromCode(code int) error {
	if code == exitOK {
		return nil
	}
	return exitCode(code)
}
