"""The document pipeline: every PDF the product makes, and the printing ban (PRINT-1..3).

``services.document_request`` is the only way to make a document; kinds of document (what they
are about, who may ask for them, whether they are records, what they make for a protected
patient) are registered in ``kinds`` by the floor that owns them; ``tasks`` renders the snapshot
taken at the request with WeasyPrint (``rendering``); ``letters`` composes letters, through
Skatteverket's forwarding service for protected patients (LETTER-1..4). See docs/documents.md,
"Adding a kind of document".
"""
