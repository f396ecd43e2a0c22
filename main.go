// Command ticketray is the Ticketray tray app and CLI: with no command it
// starts the tray app; otherwise it runs a CLI command (see --help).
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/ticketray/ticketray/app"
	"github.com/ticketray/ticketray/app/gui"
	_ "github.com/ticketray/ticketray/app/procenv" // must init before Fyne and keyring read the environment
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := app.Main(ctx, os.Args[1:], app.Env{Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Stdin: os.Stdin}, gui.Run)
	stop()
	os.Exit(code)
}
