package config

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Integrity: a managed file may carry a detached ed25519 signature in
// FILE.sig, the base64 of the signature over the file's exact bytes. When
// a public key is pinned, every managed file must carry a valid one.
//
// Keys are PKCS#8 / PKIX PEM, the formats of
// `openssl genpkey -algorithm ed25519`, so IT can also sign with
// `openssl pkeyutl -sign -inkey key.pem -rawin -in config.json | base64 -w0 > config.json.sig`.

// PinnedPublicKey is a public key built into the binary, as the base64 of
// its 32 bytes (or PEM): -ldflags "-X github.com/ticketray/ticketray/app/config.PinnedPublicKey=…".
// It wins over ManagedDir/config.pub, which a fleet without its own build
// can use instead.
var PinnedPublicKey string

// PublicKeyFile is the name of the pinned key in the managed directory.
const PublicKeyFile = "config.pub"

// SigSuffix is appended to a file's name for its signature.
const SigSuffix = ".sig"

func (o LoadOptions) publicKey() (ed25519.PublicKey, error) {
	if o.PublicKey != nil {
		return o.PublicKey, nil
	}
	if PinnedPublicKey != "" {
		k, err := ParsePublicKey([]byte(PinnedPublicKey))
		if err != nil {
			return nil, fmt.Errorf("config: the public key built into this binary: %w", err)
		}
		return k, nil
	}
	if o.ManagedDir == "" {
		return nil, nil
	}
	path := filepath.Join(o.ManagedDir, PublicKeyFile)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("config: pinned key: %w", err)
	}
	k, err := ParsePublicKey(data)
	if err != nil {
		return nil, fmt.Errorf("config: pinned key %s: %w", path, err)
	}
	return k, nil
}

// GenerateKey makes a key pair, PEM-encoded.
func GenerateKey() (pubPEM, privPEM []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate key: %w", err)
	}
	pk, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	sk, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pk}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: sk}), nil
}

// ParsePublicKey reads a PKIX PEM public key, or the base64 of the raw 32
// bytes.
func ParsePublicKey(data []byte) (ed25519.PublicKey, error) {
	if b, _ := pem.Decode(data); b != nil {
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, fmt.Errorf("not a public key: %w", err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("not an ed25519 public key (%T)", k)
		}
		return pub, nil
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(raw) != ed25519.PublicKeySize {
		return nil, errors.New("neither a PEM public key nor the base64 of 32 bytes")
	}
	return ed25519.PublicKey(raw), nil
}

// ParsePrivateKey reads a PKCS#8 PEM ed25519 private key.
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil {
		return nil, errors.New("not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("not a PKCS#8 private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("not an ed25519 private key (%T)", k)
	}
	return priv, nil
}

// Sign returns the content of a .sig file for data.
func Sign(priv ed25519.PrivateKey, data []byte) []byte {
	return []byte(base64.StdEncoding.EncodeToString(ed25519.Sign(priv, data)) + "\n")
}

// ErrBadSignature means a signature does not match the file.
var ErrBadSignature = errors.New("the signature does not match the file (altered, or signed with another key)")

// VerifyFile checks path's detached signature over data.
func VerifyFile(pub ed25519.PublicKey, path string, data []byte) error {
	sigPath := path + SigSuffix
	text, err := os.ReadFile(sigPath)
	if errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("unsigned: %s is missing", sigPath)
	}
	if err != nil {
		return fmt.Errorf("signature: %w", err)
	}
	sig, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(text)))
	if err != nil || len(sig) != ed25519.SignatureSize {
		return fmt.Errorf("%s is not the base64 of an ed25519 signature", sigPath)
	}
	if !ed25519.Verify(pub, data, sig) {
		return ErrBadSignature
	}
	return nil
}
