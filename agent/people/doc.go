// Package people knows who is on the floor: the operators of one warehouse (code,
// name, role, badge, PIN), how they sign in (a badge scan, or an operator code and
// PIN), the sign-in sessions the web UI holds, and the throttle that stops a PIN
// from being guessed.
//
// Operators live in the agent's store, so a PDA keeps working when the hub is away.
// PINs are kept only as salted PBKDF2-SHA256 hashes; session tokens only as SHA-256
// hashes, so a copied data file does not let anyone sign in. Failed PINs lock the
// operator and the client out for a time that doubles with every lockout.
//
// Errors meant for the person at the screen are *Error values with a Chinese and an
// English message ("PIN 错误,还可尝试 2 次").
package people
