package elbv2

import (
	"context"
	"regexp"
	"unicode/utf8"
)

// Tag constraints of the model: key 1-128, value 0-256, both
// ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$; the aws: prefix is reserved.
var tagChars = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)

func checkTags(tags []Tag, member string) error {
	seen := map[string]bool{}
	for _, t := range tags {
		k, v := t.Key, t.Value
		switch {
		case utf8.RuneCountInString(k) < 1 || utf8.RuneCountInString(k) > 128 || !tagChars.MatchString(k):
			return validation(&k, member+".member.key", "Member must have length between 1 and 128 and match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$")
		case utf8.RuneCountInString(v) > 256 || !tagChars.MatchString(v):
			return validation(&v, member+".member.value", "Member must have length less than or equal to 256 and match ^([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)$")
		case seen[k]:
			return ErrDuplicateTagKeys.With("Tag key %q appears more than once.", k)
		}
		seen[k] = true
	}
	return nil
}

// mergeTags adds or overwrites tags, keeping first-set order.
func mergeTags(cur, add []Tag) []Tag {
	out := append([]Tag(nil), cur...)
	for _, t := range add {
		found := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, found = t.Value, true
			}
		}
		if !found {
			out = append(out, t)
		}
	}
	return out
}

// tagsOf returns a pointer to the tags of the resource arn names, or the
// NotFound error of its kind.
func (w *world) tagsOf(arn string) (*[]Tag, *fileInfo, error) {
	switch arnKind(arn) {
	case "truststore":
		if ts := w.trustStoreByARN(arn); ts != nil {
			return &ts.Tags, ts.file, nil
		}
		return nil, nil, ErrTrustStoreNotFound
	case "loadbalancer":
		if lb := w.loadBalancerByARN(arn); lb != nil {
			return &lb.Tags, lb.file, nil
		}
		return nil, nil, ErrLoadBalancerNotFound
	case "targetgroup":
		if tg := w.targetGroupByARN(arn); tg != nil {
			return &tg.Tags, tg.file, nil
		}
		return nil, nil, ErrTargetGroupNotFound
	case "listener":
		if l := w.listenerByARN(arn); l != nil {
			return &l.Tags, l.file, nil
		}
		return nil, nil, ErrListenerNotFound
	case "listener-rule":
		if r := w.ruleByARN(arn); r != nil {
			return &r.Tags, r.file, nil
		}
		return nil, nil, ErrRuleNotFound
	}
	return nil, nil, validation(&arn, "ResourceArns.member", "Member must be an Elastic Load Balancing ARN")
}

// AddTagsInput is the model's AddTagsInput.
type AddTagsInput struct {
	ResourceArns list[string] `aws:"required"`
	Tags         list[Tag]    `aws:"required"`
}

func (s *Service) addTags(ctx context.Context, in *AddTagsInput) (*struct{}, error) {
	if err := checkTags(in.Tags, "tags"); err != nil {
		return nil, err
	}
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		for _, arn := range in.ResourceArns {
			tags, f, err := w.tagsOf(arn)
			if err != nil {
				return nil, err
			}
			if f != nil {
				return nil, readOnly("resource", arn, f)
			}
			merged := mergeTags(*tags, in.Tags)
			if len(merged) > s.o.Quotas.TagsPerResource {
				return nil, ErrTooManyTags.With("%s would have %d tags; the limit is %d.", arn, len(merged), s.o.Quotas.TagsPerResource)
			}
			*tags = merged
		}
		return nil, nil
	})
}

// RemoveTagsInput is the model's RemoveTagsInput.
type RemoveTagsInput struct {
	ResourceArns list[string] `aws:"required"`
	TagKeys      list[string] `aws:"required"`
}

func (s *Service) removeTags(ctx context.Context, in *RemoveTagsInput) (*struct{}, error) {
	return mutate(ctx, s, func(w *world) (*struct{}, error) {
		for _, arn := range in.ResourceArns {
			tags, f, err := w.tagsOf(arn)
			if err != nil {
				return nil, err
			}
			if f != nil {
				return nil, readOnly("resource", arn, f)
			}
			var kept []Tag
			for _, t := range *tags {
				drop := false
				for _, k := range in.TagKeys {
					drop = drop || t.Key == k
				}
				if !drop {
					kept = append(kept, t)
				}
			}
			*tags = kept
		}
		return nil, nil
	})
}

// DescribeTagsInput is the model's DescribeTagsInput.
type DescribeTagsInput struct {
	ResourceArns list[string] `aws:"required"`
}

// TagDescription is the model's TagDescription.
type TagDescription struct {
	ResourceArn string
	Tags        list[Tag]
}

// DescribeTagsOutput is the model's DescribeTagsOutput.
type DescribeTagsOutput struct {
	TagDescriptions list[TagDescription]
}

func (s *Service) describeTags(_ context.Context, in *DescribeTagsInput) (*DescribeTagsOutput, error) {
	if len(in.ResourceArns) > 20 {
		return nil, validation(nil, "ResourceArns", "Member must have length less than or equal to 20")
	}
	w := s.view()
	out := &DescribeTagsOutput{TagDescriptions: list[TagDescription]{}}
	for _, arn := range in.ResourceArns {
		tags, _, err := w.tagsOf(arn)
		if err != nil {
			return nil, err
		}
		out.TagDescriptions = append(out.TagDescriptions, TagDescription{ResourceArn: arn, Tags: list[Tag](append([]Tag{}, *tags...))})
	}
	return out, nil
}
