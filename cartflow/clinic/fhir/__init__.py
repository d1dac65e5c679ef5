"""FHIR R4 export of a case (built and validated with fhir.resources' R4B models), and the
read-back that turns an exported Bundle into the same case facts."""
