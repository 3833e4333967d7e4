// Package web serves menqian's pages: server-rendered html/template pages for
// merchants, patrol officers and the public, calling the service layer
// directly (never the JSON API), with sessions, CSRF tokens and a nonce-based
// Content-Security-Policy.
package web
