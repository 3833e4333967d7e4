// Package models holds menqian's storage: GORM structs, every query, the
// transaction carried in the context, and the embedded versioned migrations.
package models
