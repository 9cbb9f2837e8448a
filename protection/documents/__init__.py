"""The document pipeline: every PDF about a patient, and the printing ban (PRINT-1..3).

``services.document_request`` is the only way to make a document about a patient; kinds of
document are registered in ``kinds`` by the floor that owns them; ``tasks`` renders them with
WeasyPrint (``rendering``); ``letters`` composes letters, through Skatteverket's forwarding
service for protected patients (LETTER-1..4). See docs/documents.md.
"""
