package main

import (
	"encoding/json"
	"fmt"

	"github.com/bytebase/bytebase/backend/plugin/webhook"
	"github.com/gosimple/slug"
)

/*
 * The webhook context Bytebase 1.12.0 builds for an activity. The code that does it,
 * getWebhookContext in backend/component/activity/manager.go, needs Bytebase's store and its
 * legacyapi package (which pulls in its SQL parsers), so it cannot be built here: this file
 * states its rules over the rows it reads (the activity, the issue, the updater, the task), and
 * links with the real gosimple/slug. The test message is the route in
 * backend/server/project_webhook.go (GET /project/:projectID/webhook/:webhookID/test).
 */

// Person is a row of Bytebase's principal table, as GetUserByID returns it.
type Person struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// Activity is a row of Bytebase's activity table: its payload is one of legacyapi's payload structs.
type Activity struct {
	ID      int             `json:"id"`
	Type    string          `json:"type"`
	Comment string          `json:"comment"`
	Payload json.RawMessage `json:"payload"`
}

// IssueRow is the issue after the activity (meta.Issue) with its project.
type IssueRow struct {
	ID          int    `json:"id"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	Type        string `json:"type"`
	Description string `json:"description"`
	ProjectID   int    `json:"projectId"`
	ProjectName string `json:"projectName"`
}

// TaskRow is the task after a task activity (GetTaskByID): its status, skip and latest run's result detail.
type TaskRow struct {
	Name          string `json:"name"`
	Status        string `json:"status"`
	Skipped       bool   `json:"skipped"`
	SkippedReason string `json:"skippedReason"`
	RunDetail     string `json:"runDetail"`
}

// TestMessage is what the test route reads: the webhook and its project.
type TestMessage struct {
	WebhookID   int    `json:"webhookId"`
	WebhookName string `json:"webhookName"`
	ProjectID   int    `json:"projectId"`
	ProjectName string `json:"projectName"`
}

// Case is one message to post: an activity, or the test message.
type Case struct {
	Name     string       `json:"name"`
	Activity *Activity    `json:"activity,omitempty"`
	Updater  Person       `json:"updater"`
	Issue    *IssueRow    `json:"issue,omitempty"`
	Task     *TaskRow     `json:"task,omitempty"`
	Test     *TestMessage `json:"test,omitempty"`
}

// Input is cases.json.
type Input struct {
	ExternalURL string            `json:"externalUrl"`
	SentTs      int64             `json:"sentTs"`
	Users       map[string]Person `json:"users"`
	SlugNames   []string          `json:"slugNames"`
	Cases       []Case            `json:"cases"`
}

func contextOf(in *Input, c Case) (webhook.Context, error) {
	if c.Test != nil {
		return testContext(in, c.Test), nil
	}
	issue, activity := c.Issue, c.Activity
	level := webhook.WebhookInfo
	title := ""
	var result *webhook.TaskResult
	// api.IssueSlug
	link := fmt.Sprintf("%s/issue/%s-%d", in.ExternalURL, slug.Make(issue.Name), issue.ID)
	switch activity.Type {
	case "bb.issue.create":
		title = "Issue created - " + issue.Name
	case "bb.issue.status.update":
		switch issue.Status {
		case "OPEN":
			title = "Issue reopened - " + issue.Name
		case "DONE":
			level = webhook.WebhookSuccess
			title = "Issue resolved - " + issue.Name
		case "CANCELED":
			title = "Issue canceled - " + issue.Name
		}
	case "bb.issue.comment.create":
		title = "Comment created - " + issue.Name
		link += fmt.Sprintf("#activity%d", activity.ID)
	case "bb.issue.field.update":
		var p struct {
			FieldID  string `json:"fieldId"`
			OldValue string `json:"oldValue"`
			NewValue string `json:"newValue"`
		}
		if err := json.Unmarshal(activity.Payload, &p); err != nil {
			return webhook.Context{}, err
		}
		switch p.FieldID {
		case "3": // assignee: the users are looked up by id; an empty value is nobody
			var old, new *Person
			if p.OldValue != "" {
				u, ok := in.Users[p.OldValue]
				if !ok {
					return webhook.Context{}, fmt.Errorf("%s: old assignee %s not found", c.Name, p.OldValue)
				}
				old = &u
			}
			// the title is set only when there is a new assignee: removing one left it empty
			if p.NewValue != "" {
				u, ok := in.Users[p.NewValue]
				if !ok {
					return webhook.Context{}, fmt.Errorf("%s: new assignee %s not found", c.Name, p.NewValue)
				}
				new = &u
				if old != nil {
					title = fmt.Sprintf("Reassigned issue from %s to %s - %s", old.Name, new.Name, issue.Name)
				} else {
					title = fmt.Sprintf("Assigned issue to %s - %s", new.Name, issue.Name)
				}
			}
		case "4":
			title = "Changed issue description - " + issue.Name
		case "1":
			title = "Changed issue name - " + issue.Name
		default:
			title = "Updated issue - " + issue.Name
		}
	case "bb.pipeline.stage.status.update":
		var p struct {
			StageID               int    `json:"stageId"`
			StageStatusUpdateType string `json:"stageStatusUpdateType"`
			StageName             string `json:"stageName"`
		}
		if err := json.Unmarshal(activity.Payload, &p); err != nil {
			return webhook.Context{}, err
		}
		link += fmt.Sprintf("?stage=%d", p.StageID)
		switch p.StageStatusUpdateType {
		case "BEGIN":
			title = "Stage begins - " + p.StageName
		case "END":
			title = "Stage ends - " + p.StageName
		}
	case "bb.pipeline.task.status.update":
		var p struct {
			OldStatus string `json:"oldStatus"`
			NewStatus string `json:"newStatus"`
		}
		if err := json.Unmarshal(activity.Payload, &p); err != nil {
			return webhook.Context{}, err
		}
		task := c.Task
		result = &webhook.TaskResult{Name: task.Name, Status: task.Status}
		title = "Task changed - " + task.Name
		switch p.NewStatus {
		case "PENDING":
			switch p.OldStatus {
			case "RUNNING":
				title = "Task canceled - " + task.Name
			case "PENDING_APPROVAL":
				title = "Task approved - " + task.Name
			}
		case "RUNNING":
			title = "Task started - " + task.Name
		case "DONE":
			level = webhook.WebhookSuccess
			title = "Task completed - " + task.Name
			if task.Skipped {
				title = "Task skipped - " + task.Name
				result.Status = "SKIPPED"
				result.SkippedReason = task.SkippedReason
			}
		case "FAILED":
			level = webhook.WebhookError
			title = "Task failed - " + task.Name
			result.Detail = task.RunDetail
		}
	default:
		return webhook.Context{}, fmt.Errorf("%s: activity type %s posts no webhook in 1.12", c.Name, activity.Type)
	}
	return webhook.Context{
		Level:        level,
		ActivityType: activity.Type,
		Title:        title,
		Issue:        &webhook.Issue{ID: issue.ID, Name: issue.Name, Status: issue.Status, Type: issue.Type, Description: issue.Description},
		Project:      &webhook.Project{ID: issue.ProjectID, Name: issue.ProjectName},
		TaskResult:   result,
		Description:  activity.Comment,
		Link:         link,
		CreatorID:    c.Updater.ID,
		CreatorName:  c.Updater.Name,
		CreatorEmail: c.Updater.Email,
		// postWebhookList sets it to the time of sending
		CreatedTs: in.SentTs,
	}, nil
}

func testContext(in *Input, t *TestMessage) webhook.Context {
	return webhook.Context{
		Level:        webhook.WebhookInfo,
		ActivityType: "bb.issue.create",
		Title:        fmt.Sprintf("Test webhook %q", t.WebhookName),
		Description:  "This is a test",
		// getProjectSlug and api.ProjectWebhookSlug
		Link:         fmt.Sprintf("%s/project/%s-%d/webhook/%s-%d", in.ExternalURL, slug.Make(t.ProjectName), t.ProjectID, slug.Make(t.WebhookName), t.WebhookID),
		CreatorID:    1,
		CreatorName:  "Bytebase",
		CreatorEmail: "support@bytebase.com",
		CreatedTs:    in.SentTs,
		// the project's name only: its id is left 0
		Project: &webhook.Project{Name: t.ProjectName},
	}
}
