// Package qrcodes issues merchant codes, signs the plaque tokens that a merchant's QR code (一户一码) carries, and renders those codes as PNG images and ZIP archives.
package qrcodes
