// Package httpapi is menqian's HTTP interface: the only package that imports gin.
package httpapi
