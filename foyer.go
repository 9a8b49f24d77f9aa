// Package foyer holds the words of the product and their rules: tenants,
// profiles and the grants they bundle, requests and their states, guests,
// runs and plans, addresses, typed errors and the clock.
//
// It does no I/O and imports only the standard library. Every other package
// may import it; it imports none of them.
package foyer
