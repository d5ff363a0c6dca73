// Command deregister-delegated-admin is the FC3 HTTP function of the same name (see API.md).
package main

import "github.com/sase-multiaccount/backend/shared/app"

func main() { app.RunHTTPFunction("deregister-delegated-admin") }
