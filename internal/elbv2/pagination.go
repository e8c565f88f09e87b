package elbv2

import (
	"encoding/base64"
	"strconv"
)

// MaxPageSize is the model's PageSize maximum (and the default page).
const MaxPageSize = 400

// page returns one page of items after marker and the marker of the next
// page, nil when there is none (an always-present marker makes the CLI's
// auto-pagination loop). Markers are opaque to clients.
func page[T any](items []T, marker *string, pageSize *int32) ([]T, *string, error) {
	size := MaxPageSize
	if pageSize != nil {
		if *pageSize < 1 || *pageSize > MaxPageSize {
			v := strconv.Itoa(int(*pageSize))
			c := "Member must have value less than or equal to 400"
			if *pageSize < 1 {
				c = "Member must have value greater than or equal to 1"
			}
			return nil, nil, validation(&v, "PageSize", c)
		}
		size = int(*pageSize)
	}
	start := 0
	if marker != nil && *marker != "" {
		b, err := base64.RawURLEncoding.DecodeString(*marker)
		n, err2 := strconv.Atoi(string(b))
		if err != nil || err2 != nil || n < 0 || n > len(items) {
			return nil, nil, validation(marker, "Marker", "Member must be a marker returned by a previous call")
		}
		start = n
	}
	end := start + size
	if end >= len(items) {
		return items[start:], nil, nil
	}
	next := base64.RawURLEncoding.EncodeToString([]byte(strconv.Itoa(end)))
	return items[start:end], &next, nil
}
