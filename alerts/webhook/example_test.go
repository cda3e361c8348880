package webhook_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/newswatch/newswatch/alerts/notify"
	"github.com/newswatch/newswatch/alerts/webhook"
)

// A receiver written in Go checks each delivery with Verify before trusting it.
func ExampleVerify() {
	const secret = "s3cr3t"
	receiver := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 4<<20))
		if err != nil {
			http.Error(w, "body too large", http.StatusRequestEntityTooLarge)
			return
		}
		err = webhook.Verify(secret,
			r.Header.Get(webhook.HeaderTimestamp), r.Header.Get(webhook.HeaderSignature),
			body, time.Now(), 5*time.Minute)
		if err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var a notify.Alert
		if err := json.Unmarshal(body, &a); err != nil {
			http.Error(w, "bad alert", http.StatusBadRequest)
			return
		}
		fmt.Println("received", a.ID, "key", r.Header.Get(webhook.HeaderIdempotencyKey))
		w.WriteHeader(http.StatusNoContent)
	})
	srv := httptest.NewServer(receiver)
	defer srv.Close()

	ctx := context.Background()
	alert := notify.Alert{ID: "alert-1", Topic: "dprk-russia", Kind: notify.KindMatch}
	retry, err := webhook.New(webhook.Config{Name: "ops", URL: srv.URL, Secret: secret}).Notify(ctx, alert)
	fmt.Println("retry:", retry, "error:", err)

	retry, err = webhook.New(webhook.Config{Name: "ops", URL: srv.URL, Secret: "wrong"}).Notify(ctx, alert)
	fmt.Println("retry:", retry, "error:", err)
	// Output:
	// received alert-1 key alert-1
	// retry: false error: <nil>
	// retry: false error: webhook ops: deliver alert alert-1: receiver answered 401 Unauthorized: "invalid signature"
}
