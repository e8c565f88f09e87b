package config_test

import (
	"errors"
	"strings"
	"testing"

	"edge/internal/config"
)

// A configuration whose listeners all come from the AWS endpoint has an
// aws: block and no listeners; without the block, no listener is still a
// mistake.
func TestZeroListenersNeedAnAWSBlock(t *testing.T) {
	if _, err := config.Parse([]byte("aws: {listen: \"127.0.0.1:0\"}\n"), "edge.yaml"); err != nil {
		t.Errorf("aws block without listeners: %v", err)
	}
	if _, err := config.Parse([]byte("aws: {}\nname: api-only\n"), "edge.yaml"); err != nil {
		t.Errorf("empty aws block without listeners: %v", err)
	}
	_, err := config.Parse([]byte("name: nothing\n"), "edge.yaml")
	var ps config.Problems
	if !errors.As(err, &ps) || !strings.Contains(err.Error(), "at least one listener is required (or an api_gateway block, or an aws: block") {
		t.Errorf("no listeners, no aws block: %v", err)
	}
}
