"""Certificates for the SSL_GET tests, made with the cryptography package."""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

WWW = "www.example.test"
OTHER = "other.example.test"


@dataclass
class Pki:
    ca: Path
    www: tuple[Path, Path]
    other: tuple[Path, Path]
    rogue: tuple[Path, Path]
    client: tuple[Path, Path]  # key encrypted with "s3cret"


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _issue(subject: str, issuer: tuple[x509.Name, ec.EllipticCurvePrivateKey] | None,
           *, ca: bool = False, server: bool = True,
           ) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    issuer_name, issuer_key = issuer if issuer is not None else (_name(subject), key)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(hours=1))
               .not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(subject)]),
                                        critical=False)
        usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()), key


def _write(directory: Path, stem: str, cert: x509.Certificate, key: ec.EllipticCurvePrivateKey,
           password: bytes | None = None) -> tuple[Path, Path]:
    cert_path, key_path = directory / f"{stem}.crt", directory / f"{stem}.key"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(password) if password
        else serialization.NoEncryption())
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8, encryption))
    return cert_path, key_path


def make_pki(directory: Path) -> Pki:
    """A CA, server certificates for WWW and OTHER, one for WWW from another CA, and a client
    certificate whose key is encrypted with "s3cret"."""
    ca_cert, ca_key = _issue("Test CA", None, ca=True)
    rogue_ca_cert, rogue_ca_key = _issue("Rogue CA", None, ca=True)
    ca_path, _ = _write(directory, "ca", ca_cert, ca_key)
    signer = (ca_cert.subject, ca_key)
    return Pki(
        ca=ca_path,
        www=_write(directory, "www", *_issue(WWW, signer)),
        other=_write(directory, "other", *_issue(OTHER, signer)),
        rogue=_write(directory, "rogue", *_issue(WWW, (rogue_ca_cert.subject, rogue_ca_key))),
        client=_write(directory, "client", *_issue("checker", signer, server=False),
                      password=b"s3cret"),
    )
