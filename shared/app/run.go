package app

import (
	"context"
	"fmt"
	"os"

	"github.com/aliyun/fc-runtime-go-sdk/fc"

	"github.com/sase-multiaccount/backend/shared/config"
)

// RunHTTPFunction is the whole of an HTTP function's main: configuration from
// the environment, adapters, then the FC runtime loop. A configuration error
// stops the instance with a message that names the variable.
func RunHTTPFunction(name string) {
	a, err := fromEnv()
	if err == nil {
		var h any
		if h, err = a.HTTPHandler(name); err == nil {
			fc.Start(h)
			return
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
	os.Exit(2)
}

func fromEnv() (*App, error) {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return nil, err
	}
	return New(context.Background(), cfg, Options{})
}
