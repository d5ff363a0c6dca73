//go:build tools

// Package tools pins modules that packages under construction will import, so
// that `go mod tidy` keeps them. Removed once every one is imported for real.
package tools

import (
	_ "github.com/MicahParks/keyfunc/v3"
	_ "github.com/aliyun/alibaba-cloud-sdk-go/services/resourcemanager"
	_ "github.com/aliyun/aliyun-tablestore-go-sdk/tablestore"
	_ "github.com/aliyun/fc-runtime-go-sdk/fc"
	_ "github.com/golang-jwt/jwt/v5"
	_ "github.com/rs/zerolog"
	_ "go.etcd.io/bbolt"
	_ "gopkg.in/yaml.v3"
)
